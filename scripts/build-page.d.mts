/** Types of scripts/build-page.mjs for the tests that build the test-call page themselves. */
export declare const DEFAULT_PAGE_DIR: string;
export declare function buildTestCallPage(outDir?: string): Promise<{ html: string; js: string }>;
