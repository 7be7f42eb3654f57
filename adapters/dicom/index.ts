/** DICOM: the Storage SCP (with the worklist and MPPS on its port), the header and its imaging event, the study's result for the record, the C-STORE SCU that feeds the PACS, and the objects the hub makes of carts' photos and reports. See docs/dicom.md. */
export { StorageScp, type StorageScpOptions, type StoredObject, type RejectedObject, type AssociationEvent, type AssociationInfo } from './storage-scp';
export { readObjectHeader, UnreadableObjectError, type ObjectHeader } from './header';
export { buildImagingEvent, personName, type StoredContext } from './imaging-event';
export { decoderFor } from './charset';
export { metaHeader, readMetaHeader, NotPart10Error, IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION, type MetaInformation, type Part10Layout } from './part10';
export { StoreScu, ackCodeForStatus, DicomConnectionError, DicomTimeoutError, DicomFileError, type ForwardRequest, type PacsEndpoint, type StoreScuOptions } from './store-scu';
export { parsePacsEndpoint } from './endpoint';
export * from './uids';
export { journalStored, journalRejected, DICOM_FILE_CONTENT_TYPE, type JournalContext, type JournaledEvent } from './journal';
export { answerWorklistQuery, parseStationsByModality, dicomName, MODALITY_WORKLIST_FIND, type NaturalDataset, type WorklistOptions } from './worklist';
export {
  performedStepCreated, performedStepSet, procedureEvent, MODALITY_PERFORMED_PROCEDURE_STEP, PROCEDURE_EVENT_SCHEMA, PROCEDURE_CONTENT_TYPE, MppsStatus,
  type ProcedureEvent, type ProcedureEventType, type MppsContext, type MppsOutcome, type StudyDetails,
} from './mpps';
export { notifyDueStudies, studyResult, viewerLink, ACCESSION_NUMBER_CODE, STUDY_INSTANCE_UID_CODE, VIEWER_LINK_CODE, type StudyNotifierOptions, type StudyNotification, type DueStudies } from './study-result';
export type { ImagingOrder } from '../hl7/orders';
export { imagingOrderFromInput, InvalidOrderError, type WorklistOrderInput } from './worklist-order';
export {
  StorageCommitter, applyCommitmentReport, readCommitmentReport, requestCommitment, failureReason, CommitmentReportError, CommitmentRequestError,
  STORAGE_COMMITMENT_PUSH, STORAGE_COMMITMENT_INSTANCE, COMMITMENT_REPORT_CONTENT_TYPE, type CommitmentEvent, type ReportContext, type CommitmentReport, type StorageCommitterOptions,
} from './storage-commitment';
export { readJpeg, InvalidJpegError, type JpegInfo, type JpegProblem } from './jpeg';
export { parsePhotoCompanion, InvalidPhotoError, PHOTO_SCHEMA, PHOTO_CONTENT_TYPE, REGION_NAMES, type PhotoCompanion, type CodedRegion } from './photo-contract';
export { photoObject, pdfObject, cartObject, teleconsultationStudyUid, VL_PHOTOGRAPHIC, DERMOSCOPIC_PHOTOGRAPHY, ENCAPSULATED_PDF, JPEG_BASELINE, type BuiltObject, type PhotoOptions } from './photo';
export { keepCartObject, cartAeTitle, type PhotoFileOptions, type KeptPhoto } from './photo-file';
export { PhotoIntake, PhotoRefusedError, PHOTO_PAIRED_CONTENT_TYPE, type IntakeOutcome, type Orphan, type PhotoIntakeOptions } from './photo-intake';
export { findPairs, readPair, settlePair, type FolderPair } from './photo-folder';
