/** DICOM: the Storage SCP, the header and its imaging event, and the C-STORE SCU that feeds the PACS. See docs/dicom.md. */
export { StorageScp, type StorageScpOptions, type StoredObject, type RejectedObject, type AssociationEvent, type AssociationInfo } from './storage-scp';
export { readObjectHeader, UnreadableObjectError, type ObjectHeader } from './header';
export { buildImagingEvent, personName, type StoredContext } from './imaging-event';
export { decoderFor } from './charset';
export { metaHeader, readMetaHeader, NotPart10Error, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION, type MetaInformation, type Part10Layout } from './part10';
export { StoreScu, ackCodeForStatus, DicomConnectionError, DicomTimeoutError, DicomFileError, type ForwardRequest, type PacsEndpoint, type StoreScuOptions } from './store-scu';
export { parsePacsEndpoint } from './endpoint';
export * from './uids';
export { journalStored, journalRejected, DICOM_FILE_CONTENT_TYPE, type JournalContext, type JournaledEvent } from './journal';
