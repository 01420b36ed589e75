import { EnclaveError } from '@enclave/protocol';

/** The native argon2 addon is loaded with the first password, not at start. */
let argon2: Promise<typeof import('@node-rs/argon2')> | undefined;
const lib = () => (argon2 ??= import('@node-rs/argon2'));

/**
 * argon2id in a bounded queue: at most `concurrency` hashes run at once and at most `maxQueue` wait;
 * past that a sign-in gets the retryable `server_busy` instead of the server running out of memory
 * during a 9 a.m. login storm.
 */
export class PasswordHasher {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(
    private readonly concurrency = 2,
    private readonly maxQueue = 512,
    private readonly params = { memoryCost: 19_456, timeCost: 2, parallelism: 1 },
  ) {}

  private async slot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxQueue) throw new EnclaveError('server_busy');
      await new Promise<void>((r) => this.waiting.push(r));
    }
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  hash(password: string): Promise<string> {
    return this.slot(async () => (await lib()).hash(password, { ...this.params, algorithm: 2 }));
  }

  verify(stored: string, password: string): Promise<boolean> {
    return this.slot(async () => (await lib()).verify(stored, password).catch(() => false));
  }
}
