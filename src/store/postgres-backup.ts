/** What `outflow backup` says when a store lives in PostgreSQL: PostgreSQL's own tools do that job. */
export const POSTGRES_BACKUP_ADVICE =
  "This home keeps its data in PostgreSQL (OUTFLOW_DATABASE_URL or OUTFLOW_PROFILES_URL), which `outflow backup` does not copy: back the database up with PostgreSQL's own tools (`pg_dump --format=custom` while Outflow runs, `pg_restore` into an empty database), and keep the secret key (OUTFLOW_SECRET_KEY, or <home>/secret.key) safe apart from the dump: without it the connections' secrets cannot be decrypted.";
