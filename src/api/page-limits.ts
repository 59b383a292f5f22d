/**
 * Page sizes of every list of the API, in a module of their own so the CLI's remote client reads them without
 * loading the server's route code.
 */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;
