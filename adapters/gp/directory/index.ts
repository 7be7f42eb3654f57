export { checkMailbox, type MailboxCheck } from './mailbox';
export { loadGpDirectory, gpFromDirectory, GP_DIRECTORY_SCHEMA, type GpDirectory, type DirectoryDoctor, type DirectoryPatientLink } from './directory';
export { resolveGp, assignGps, type GpResolution, type WithoutGp } from './who-is-gp';
