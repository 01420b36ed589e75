export * from './errors.ts';
export * from './limits.ts';
export * from './models.ts';
export * from './ops.ts';
export * from './frames.ts';
export * from './openapi.ts';
export * from './org.ts';
