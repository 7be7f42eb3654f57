/**
 * Sample POCT1-A documents written for these tests: an HbA1c analyser (Afinion-style) in a
 * French immediate-care centre. Patient ids and values are made up. The header clock of the
 * device is set years off on purpose: result times must come from SVC.observation_dttm.
 */

export const HEL = `<?xml version="1.0" encoding="UTF-8"?>
<HEL.R01>
  <HDR>
    <HDR.message_type V="HEL.R01" SN="POCT1"/>
    <HDR.control_id V="20417"/>
    <HDR.version_id V="POCT1"/>
    <HDR.creation_dttm V="2019-03-02T08:11:40+01:00"/>
  </HDR>
  <DEV>
    <DEV.device_id V="00:1B:4F:22:9A:10"/>
    <DEV.vendor_id V="Abbott"/>
    <DEV.model_id V="Afinion 2"/>
    <DEV.serial_id V="AF2-004711"/>
    <DEV.manufacturer_name V="Abbott Diagnostics Technologies"/>
    <DEV.sw_version V="5.12"/>
    <DEV.device_name V="Salle de soins 2 — Afinion"/>
    <DCP>
      <DCP.application_timeout V="30"/>
    </DCP>
    <DSC>
      <DSC.connection_profile_cd V="SA"/>
      <DSC.topics_supported_cd V="OBS"/>
      <DSC.topics_supported_cd V="OPL"/>
      <DSC.directives_supported_cd V="START_CONTINUOUS"/>
      <DSC.max_message_sz V="100000"/>
    </DSC>
    <DEV.vendor_specific_flag V="1"/>
  </DEV>
</HEL.R01>
`;

export const DST = `<?xml version="1.0" encoding="UTF-8"?>
<DST.R01>
  <HDR>
    <HDR.message_type V="DST.R01" SN="POCT1"/>
    <HDR.control_id V="20418"/>
    <HDR.version_id V="POCT1"/>
    <HDR.creation_dttm V="2019-03-02T08:11:41+01:00"/>
  </HDR>
  <DST>
    <DST.status_dttm V="2019-03-02T08:11:41+01:00"/>
    <DST.new_observations_qty V="3"/>
    <DST.new_events_qty V="0"/>
    <DST.condition_cd V="R" SN="POCT1"/>
  </DST>
</DST.R01>
`;

/** A patient HbA1c: 6.1 % (LOINC 4548-4), 43 mmol/mol IFCC (device code), reference 4.0–6.0 %. */
export const OBS_PATIENT = `<?xml version="1.0" encoding="UTF-8"?>
<OBS.R01>
  <HDR>
    <HDR.message_type V="OBS.R01" SN="POCT1"/>
    <HDR.control_id V="20419"/>
    <HDR.version_id V="POCT1"/>
    <HDR.creation_dttm V="2019-03-02T08:12:05+01:00"/>
  </HDR>
  <SVC>
    <SVC.role_cd V="OBS"/>
    <SVC.observation_dttm V="2026-11-23T09:41:07+01:00"/>
    <SVC.status_cd V="NRM"/>
    <PT>
      <PT.patient_id V="IPP-77310452"/>
      <PT.gender_cd V="F"/>
      <OBS>
        <OBS.observation_id V="4548-4" SN="LN" DN="HbA1c"/>
        <OBS.value V="6.1" U="%"/>
        <OBS.method_cd V="M"/>
        <OBS.status_cd V="A"/>
        <OBS.interpretation_cd V="H"/>
        <OBS.normal_lo-hi_limit V="[4.0;6.0]" U="%"/>
      </OBS>
      <OBS>
        <OBS.observation_id V="HBA1C_IFCC" SN="AFINION" DN="HbA1c IFCC"/>
        <OBS.value V="43" U="mmol/mol"/>
        <OBS.method_cd V="C"/>
        <OBS.normal_lo-hi_limit V="20-42" U="mmol/mol"/>
      </OBS>
    </PT>
    <OPR>
      <OPR.operator_id V="IDE-0412"/>
    </OPR>
    <SPC>
      <SPC.type_cd V="BLDC" SN="HL70487"/>
    </SPC>
    <RGT>
      <RGT.name V="HbA1c Test Cartridge"/>
      <RGT.lot_number V="10293847"/>
      <RGT.expiration_date V="2027-06-30"/>
    </RGT>
  </SVC>
</OBS.R01>
`;

/** A liquid QC (OBS.R02, SVC.role_cd LQC): must never reach a patient record. */
export const OBS_QC = `<?xml version="1.0" encoding="UTF-8"?>
<OBS.R02>
  <HDR>
    <HDR.message_type V="OBS.R02" SN="POCT1"/>
    <HDR.control_id V="20421"/>
    <HDR.version_id V="POCT1"/>
    <HDR.creation_dttm V="2019-03-02T08:12:09+01:00"/>
  </HDR>
  <SVC>
    <SVC.role_cd V="LQC"/>
    <SVC.observation_dttm V="2026-11-23T08:02:30+01:00"/>
    <CTC>
      <CTC.name V="HbA1c Control C I"/>
      <CTC.lot_number V="C1-5521"/>
      <CTC.expiration_date V="2027-01-31"/>
      <CTC.level_cd V="1"/>
      <OBS>
        <OBS.observation_id V="4548-4" SN="LN" DN="HbA1c"/>
        <OBS.value V="5.3" U="%"/>
        <OBS.normal_lo-hi_limit V="[4.8;5.8]" U="%"/>
        <OBS.interpretation_cd V="N"/>
      </OBS>
    </CTC>
    <OPR>
      <OPR.operator_id V="IDE-0412"/>
    </OPR>
  </SVC>
</OBS.R02>
`;

export const EOT = `<?xml version="1.0" encoding="UTF-8"?>
<EOT.R01>
  <HDR>
    <HDR.message_type V="EOT.R01" SN="POCT1"/>
    <HDR.control_id V="20422"/>
    <HDR.version_id V="POCT1"/>
    <HDR.creation_dttm V="2019-03-02T08:12:10+01:00"/>
  </HDR>
  <EOT>
    <EOT.topic_cd V="OBS" SN="POCT1"/>
  </EOT>
</EOT.R01>
`;

/** A DST in ISO-8859-1, as some older devices send, with a Latin-1 é in its device name. */
export const DST_LATIN1 = Buffer.from(
  '<?xml version="1.0" encoding="ISO-8859-1"?><DST.R01><HDR><HDR.control_id V="31"/><HDR.version_id V="POCT1"/>'
  + '<HDR.creation_dttm V="2026-11-23T10:00:00+01:00"/></HDR><DST><DST.new_observations_qty V="0"/>'
  + '<DST.vendor_note V="Réactifs à vérifier"/></DST></DST.R01>',
  'latin1',
);

/** The header of a message with this type and control id (for hand-made documents). */
export function hdr(type: string, controlId: string): string {
  return `<HDR><HDR.message_type V="${type}" SN="POCT1"/><HDR.control_id V="${controlId}"/><HDR.version_id V="POCT1"/><HDR.creation_dttm V="2019-03-02T08:12:00+01:00"/></HDR>`;
}

/** A one-service patient OBS.R01 with this control id and HbA1c value. */
export function obsPatient(controlId: string, value = '6.1', patientId = 'IPP-77310452', at = '2026-11-23T09:41:07+01:00'): string {
  return `<?xml version="1.0" encoding="UTF-8"?><OBS.R01>${hdr('OBS.R01', controlId)}<SVC><SVC.role_cd V="OBS"/>`
    + `<SVC.observation_dttm V="${at}"/><PT><PT.patient_id V="${patientId}"/><OBS><OBS.observation_id V="4548-4" SN="LN"/>`
    + `<OBS.value V="${value}" U="%"/></OBS></PT></SVC></OBS.R01>`;
}

/** The five messages a device sends in a normal session, as one byte stream. */
export const SESSION = [HEL, DST, OBS_PATIENT, OBS_QC, EOT];
