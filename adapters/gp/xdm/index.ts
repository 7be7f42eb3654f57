/** IHE XDM packages (IHE_XDM.ZIP) for MSSanté: writer, reader, and every constant in format-details.ts. */
export { writeXdm, crBioPackage, insQualified, documentPaths, sha1Hex, type XdmPackage, type XdmDocument, type XdmPatient, type XdmPerson, type WrittenXdm, type CrBioPackageOptions } from './writer';
export { readXdm, type ReadXdm, type ReadDocumentEntry, type ReadCode } from './reader';
export * as xdmFormat from './format-details';
