import { parseFlags, loadConfig } from '../config.ts';
import { buildApp, VERSION } from '../app.ts';
import { migrateStore } from '../store/store.ts';
import { ensureAdmin } from '../domain/accounts/ensure-admin.ts';
import { createUser } from '../domain/accounts/create-user.ts';
import { resetPassword, setUserDisabled } from '../domain/accounts/passwords.ts';
import { EnclaveError } from '@enclave/protocol';
import { pino } from 'pino';
import { searchCommand } from './search-command.ts';

const usage = `Enclave ${VERSION} — private enterprise messaging

Usage:
  enclave start [--port 8080] [--data ./data] [--database-url URL]
  enclave start --cluster --database-url postgres://… --redis-url redis://… [--node-id ID]
  enclave migrate [--database-url URL]
  enclave user create <username> --name "Display Name" --password <pw> [--admin]
  enclave user disable <username> | enable <username>
  enclave user reset-password <username> --password <pw>
  enclave org import <file.csv|file.xlsx> [--dry-run]   (exit 2 when some rows had errors)
  enclave org export <file.csv|file.xlsx>
  enclave search reindex                                 (rebuild the message search index; server stopped)
  enclave export <conversation-id> --as <username> --out <file> [--format html|json|csv]
Add --json for machine-readable output.

Environment: PORT, ENCLAVE_DATA_DIR, DATABASE_URL (sqlite:<file> | postgres://… | mysql://…),
PUBLIC_URL, TRUSTED_PROXIES, ENCLAVE_ADMIN_PASSWORD, LOG_LEVEL; cluster: REDIS_URL, ENCLAVE_NODE_ID,
ENCLAVE_DRAIN_MS. SIGTERM drains (sockets told to reconnect elsewhere) before exiting. See docs/operations.md.`;

async function main(argv: string[]): Promise<number> {
  const { positional, flags } = parseFlags(argv);
  const json = flags.json === true;
  const print = (human: string, data: unknown) => console.log(json ? JSON.stringify(data) : human);
  const [cmd, sub, arg] = positional;
  const config = loadConfig(process.env, flags);

  if (!cmd || cmd === 'help' || flags.help) {
    console.log(usage);
    return cmd ? 0 : 1;
  }
  if (cmd === 'migrate') {
    const applied = await migrateStore(config.databaseUrl);
    print(applied.length ? `Applied: ${applied.join(', ')}` : 'The schema is up to date.', { applied });
    return 0;
  }
  if (cmd === 'start') return start(config, json);
  if (cmd === 'org') {
    const app = await buildApp({ ...config, logLevel: 'warn' }, { log: pino({ level: 'warn' }) });
    try {
      // Loaded on demand: the spreadsheet and encoding libraries are not needed to start a server.
      const { orgCommand } = await import('./org-command.ts');
      return await orgCommand(app, sub, arg, flags);
    } finally {
      await app.close();
    }
  }
  if (cmd === 'search' || cmd === 'export') {
    const app = await buildApp({ ...config, logLevel: 'info' }, { log: pino({ level: 'info' }) });
    try {
      return await searchCommand(app, cmd, sub, flags);
    } finally {
      await app.close();
    }
  }
  if (cmd === 'user') {
    const app = await buildApp({ ...config, logLevel: 'warn' }, { log: pino({ level: 'warn' }) });
    try {
      if (sub === 'create' && arg) {
        const user = await createUser(app.deps, {
          username: arg,
          displayName: typeof flags.name === 'string' ? flags.name : arg,
          password: String(flags.password ?? ''),
          role: flags.admin ? 'admin' : 'user',
          mustChangePassword: !flags['no-change'],
        });
        print(`Created ${user.username} (${user.id}).`, user);
        return 0;
      }
      const row = arg
        ? await app.deps.store.db
            .selectFrom('users')
            .select(['uid'])
            .where('username', '=', arg.toLowerCase())
            .executeTakeFirst()
        : undefined;
      if (!row) throw new EnclaveError('user_not_found', `No user named "${arg ?? ''}".`);
      const { uidFromDb } = await import('../store/dialect.ts');
      const uid = uidFromDb(row.uid);
      if (sub === 'disable' || sub === 'enable') {
        const user = await setUserDisabled(app.deps, null, uid, sub === 'disable');
        print(`${user.username} is now ${user.disabled ? 'disabled' : 'enabled'}.`, user);
        return 0;
      }
      if (sub === 'reset-password') {
        await resetPassword(app.deps, null, uid, String(flags.password ?? ''));
        print(`Password reset; ${arg} must change it at next sign-in.`, { ok: true });
        return 0;
      }
      console.error(usage);
      return 1;
    } finally {
      await app.close();
    }
  }
  console.error(`Unknown command "${cmd}".\n\n${usage}`);
  return 1;
}

async function start(config: ReturnType<typeof loadConfig>, json: boolean): Promise<number> {
  const started = Date.now();
  const app = await buildApp(config);
  const admin = await ensureAdmin(app.deps);
  const address = await app.http.listen({ port: config.port, host: config.host });
  const url = config.publicUrl ?? `http://localhost:${new URL(address).port}`;
  const lines = [
    `Enclave ${VERSION} is running at ${url}  (store: ${app.deps.store.kind}, data: ${config.dataDir}, ready in ${Date.now() - started} ms)`,
  ];
  if (admin.created && admin.password)
    lines.push(
      `First start: sign in as "admin" with password ${admin.password}`,
      'This password is shown only once; you will be asked to change it at first sign-in.',
    );
  else if (admin.created) lines.push('First start: sign in as "admin" with the password from ENCLAVE_ADMIN_PASSWORD.');
  lines.push(`API: ${url}/api/docs   Health: ${url}/healthz`);
  if (json)
    console.log(
      JSON.stringify({
        url,
        port: Number(new URL(address).port),
        node: app.cluster ? config.nodeId : null,
        store: app.deps.store.kind,
        adminCreated: admin.created,
        adminPassword: admin.password,
      }),
    );
  else console.log(lines.join('\n'));
  // SQLite: the send thread starts now that the server answers, not with the first message, which
  // would otherwise wait for the thread to come up beside it (~100 ms of CPU on two cores).
  setImmediate(() => app.deps.writer.startPrograms());
  let closing = false;
  const stop = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.deps.log.info({ signal }, 'shutting down');
    // SIGTERM (systemd stop, rolling restart): drain first, so clients move to other nodes gently.
    if (signal === 'SIGTERM') await app.drain();
    await app.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (e: unknown) => {
    console.error(e instanceof EnclaveError ? `${e.code}: ${e.message}` : e);
    process.exit(1);
  },
);
