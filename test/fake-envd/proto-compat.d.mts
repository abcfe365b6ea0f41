// Types of proto-compat.mjs for TypeScript tests.

/** Differences between our protos and the schemas bundled in the installed e2b SDK (empty = same). */
export function compareWithSdk(): Promise<string[]>;
