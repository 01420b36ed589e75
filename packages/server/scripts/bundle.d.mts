/** The server bundle's directory (packages/server/dist). */
export declare const DIST: string;
/** The bundle's entry as a file URL when it is built and newer than every source, else null. */
export declare function freshBundle(): string | null;
/** Builds the bundle into dist/; returns the milliseconds spent. */
export declare function buildBundle(): Promise<number>;
