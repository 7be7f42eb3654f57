/** The folder drop per GP (a delivery Transport). See docs/gp.md. */
export { FolderDropTransport, DropConnectionError, gpDrop, gpFolderName, enqueueGpDrop, GP_DROP_SCHEMA, GP_DROP_CONTENT_TYPE, type GpDrop } from './drop';
