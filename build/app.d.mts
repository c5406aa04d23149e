// Types of build/app.mjs, for the tests that stage the app folder.
export declare const APP_DIR: string;
export declare function stageApp(options?: { dir?: string; runBundle?: boolean; log?: (line: string) => void }): Promise<{ dir: string; packages: string[]; ms: number }>;
