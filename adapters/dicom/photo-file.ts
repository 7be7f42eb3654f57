/**
 * A cart's photo or report kept as the hub keeps every DICOM object: a Part 10 file under
 * <dir>/<YYYY-MM-DD, UTC>/<SOP instance UID>.dcm, written and fsynced through ObjectFile, its
 * header read back and checked by the reader the Storage SCP uses, then named without
 * overwriting. The result is a StoredObject: journalStored() makes its imaging event, so the
 * "to PACS" node forwards it and the study's notification tells the record, as for a modality's.
 */
import { unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readObjectHeader } from './header';
import { placeWithoutOverwrite, ObjectFile } from './object-file';
import { cartObject, type BuiltObject, type PhotoOptions } from './photo';
import type { PhotoCompanion } from './photo-contract';
import type { StoredObject } from './storage-scp';

export interface PhotoFileOptions extends PhotoOptions {
  /** Where the files go (the node's <data dir>/dicom/<AE title>). */
  dir: string;
  /** The hub's AE title: the source AE of the file, the "called" AE of the event. */
  aeTitle: string;
  /** Where the bytes came from (mqtt:<topic>, file:<path>, wire:<node>), for the journal. */
  peer: string;
}

export interface KeptPhoto {
  stored: StoredObject;
  object: BuiltObject;
}

/** The cart's name as the calling AE title of the event: at most 16 characters, no backslash. */
export function cartAeTitle(cartId: string): string {
  return cartId.replace(/\\/g, '_').slice(0, 16).trim() || 'CART';
}

/** Builds the object (throws InvalidJpegError / InvalidPhotoError for bad input), writes it durably, and returns it stored. */
export async function keepCartObject(bytes: Buffer, companion: PhotoCompanion, options: PhotoFileOptions): Promise<KeptPhoto> {
  const object = cartObject(bytes, companion, options);
  const file = new ObjectFile({
    dir: join(options.dir, options.receivedAt.toISOString().slice(0, 10)),
    meta: { sopClassUid: object.sopClassUid, sopInstanceUid: object.sopInstanceUid, transferSyntaxUid: object.transferSyntaxUid, sourceAeTitle: options.aeTitle },
  });
  await new Promise<void>((resolve, reject) => {
    file.once('error', reject);
    file.end(object.dataset, () => resolve());
  });
  try {
    const header = await readObjectHeader(file.tempPath, file.size);
    const path = await placeWithoutOverwrite(file.tempPath, join(dirname(file.tempPath), object.sopInstanceUid));
    const stored: StoredObject = {
      callingAeTitle: cartAeTitle(companion.cart.id), calledAeTitle: options.aeTitle, peer: options.peer,
      path, size: file.size, sha256: file.sha256, header, receivedAt: options.receivedAt,
    };
    return { stored, object };
  } catch (err) {
    await unlink(file.tempPath).catch(() => undefined);
    throw err;
  }
}
