/** JSON Schema of a device profile file (draft 2020-12). Unknown properties are refused so a typo is caught at load, not at the first result. */
const positive = { type: 'integer', minimum: 1 } as const;
const fieldRef = {
  type: 'object',
  required: ['field'],
  additionalProperties: false,
  properties: { field: positive, component: positive, repeat: positive },
} as const;
const status = { enum: ['F', 'P', 'C', 'X', 'I', 'R'] } as const;
const text = { type: 'string', minLength: 1 } as const;
const letters = { type: 'array', items: text } as const;

export const PROFILE_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['id', 'manufacturer', 'model'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]*$' },
    manufacturer: text,
    model: text,
    description: { type: 'string' },
    notes: { type: 'array', items: { type: 'string' } },
    detect: { type: 'object', required: ['sender'], additionalProperties: false, properties: { sender: text } },
    charset: { enum: ['latin1', 'utf8'] },
    link: { type: 'object' },
    sender: { type: 'object', additionalProperties: false, properties: { version: positive, serial: positive } },
    specimenId: { type: 'array', minItems: 1, items: fieldRef },
    patient: {
      type: 'object',
      additionalProperties: false,
      properties: {
        identifiers: {
          type: 'array',
          items: {
            type: 'object',
            required: ['field'],
            additionalProperties: false,
            properties: { field: positive, component: positive, repeat: positive, type: text, authority: text },
          },
        },
        name: {
          type: 'object',
          required: ['field', 'family', 'given'],
          additionalProperties: false,
          properties: { field: positive, family: positive, given: { type: 'array', items: positive }, prefix: positive },
        },
        birthDate: fieldRef,
        sex: fieldRef,
      },
    },
    testCode: {
      type: 'object',
      required: ['components'],
      additionalProperties: false,
      properties: { components: { type: 'array', minItems: 1, items: positive }, separator: { type: 'string' }, nameComponent: positive },
    },
    value: {
      type: 'object',
      required: ['component'],
      additionalProperties: false,
      properties: { component: { oneOf: [positive, { enum: ['first-non-empty', 'all'] }] } },
    },
    decimalComma: { type: 'boolean' },
    timeZone: text,
    dateFormat: text,
    status: { type: 'object', additionalProperties: status },
    statusWhenAbsent: status,
    qualityControl: {
      type: 'object',
      additionalProperties: false,
      properties: { processingIds: letters, actionCodes: letters, specimenTypes: letters },
    },
    skipProcessingIds: letters,
    codeSystem: text,
    units: { type: 'object', additionalProperties: text },
    tests: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          loinc: { type: 'string', pattern: '^[0-9]{1,7}-[0-9]$' },
          display: { type: 'string' },
          unit: text,
          deviceUnits: letters,
        },
      },
    },
  },
} as const;
