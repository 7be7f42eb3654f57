/**
 * The small element tree POCT1-A messages are read into and written from. POCT1-A puts values
 * in attributes (V value, U units, SN/SV coding system and version) of elements named
 * OBJECT.attribute, so a tree of name + attributes + children (+ text, which some vendors use)
 * is all it takes. Parsing is saxes' job (splitter.ts, parseXml); this file only builds and
 * writes trees.
 */
import { SaxesParser } from 'saxes';

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Character data directly inside the element (CDATA included), as parsed. */
  text: string;
}

export type XmlEncoding = 'UTF-8' | 'ISO-8859-1';

/** An element; attributes whose value is undefined are left out. */
export function element(name: string, attributes: Record<string, string | undefined> = {}, children: Array<XmlElement | undefined> = [], text = ''): XmlElement {
  const attrs: Record<string, string> = {};
  for (const [key, value] of Object.entries(attributes)) if (value !== undefined) attrs[key] = value;
  return { name, attributes: attrs, children: children.filter((c): c is XmlElement => c !== undefined), text };
}

/** `<name V="value" …/>`, or undefined when value is undefined (so optional fields drop out). */
export function valueElement(name: string, value: string | number | undefined, more: Record<string, string | undefined> = {}): XmlElement | undefined {
  return value === undefined ? undefined : element(name, { V: String(value), ...more });
}

export function child(parent: XmlElement | undefined, name: string): XmlElement | undefined {
  return parent?.children.find((c) => c.name === name);
}

export function childrenNamed(parent: XmlElement | undefined, name: string): XmlElement[] {
  return parent ? parent.children.filter((c) => c.name === name) : [];
}

/** The V attribute of a child element: where POCT1-A keeps values. */
export function valueOf(parent: XmlElement | undefined, name: string): string | undefined {
  return child(parent, name)?.attributes.V;
}

export interface XmlTreeHooks {
  /** A start tag was read; depth 0 is the root element. */
  onOpen?: (name: string, depth: number) => void;
  /** An element was closed; depth is what stays open (0: the root element just closed). */
  onClose?: (depth: number) => void;
}

/**
 * Builds a tree from saxes events. saxes takes one handler per event: the builder owns opentag,
 * closetag, text and cdata, and hooks tell the caller about the structure. Stops at the first
 * error: saxes goes on after one, but what it reports then is a guess, and a guess must not
 * become a value.
 */
export class XmlTreeBuilder {
  root: XmlElement | undefined;
  private readonly stack: XmlElement[] = [];
  private failed = false;

  constructor(parser: SaxesParser, private readonly hooks: XmlTreeHooks = {}) {
    parser.on('opentag', (tag) => {
      if (this.failed) return;
      const attributes: Record<string, string> = {};
      for (const [key, value] of Object.entries(tag.attributes)) attributes[key] = value;
      const el: XmlElement = { name: tag.name, attributes, children: [], text: '' };
      const parent = this.stack[this.stack.length - 1];
      if (parent) parent.children.push(el);
      else this.root = el;
      this.stack.push(el);
      this.hooks.onOpen?.(tag.name, this.stack.length - 1);
    });
    parser.on('closetag', () => {
      if (this.failed) return;
      this.stack.pop();
      this.hooks.onClose?.(this.stack.length);
    });
    const addText = (text: string) => {
      const current = this.stack[this.stack.length - 1];
      if (!this.failed && current) current.text += text;
    };
    parser.on('text', addText);
    parser.on('cdata', addText);
  }

  /** Depth of open elements; 0 once the root element is closed. */
  get depth(): number {
    return this.stack.length;
  }

  /**
   * Called on the first error: the tree keeps what was read before it. saxes reports a start tag
   * only once all its attributes are read, and text only once it is complete, so nothing in the
   * tree is half a value.
   */
  fail(): void {
    this.failed = true;
  }
}

/** Parses one whole document held in a string (tests, tools). Throws on the first well-formedness error. */
export function parseXml(text: string): XmlElement {
  const parser = new SaxesParser();
  const builder = new XmlTreeBuilder(parser);
  let error: Error | undefined;
  parser.on('error', (err) => {
    error ??= err;
    builder.fail();
  });
  parser.write(text).close();
  if (error) throw error;
  if (!builder.root) throw new Error('no root element');
  return builder.root;
}

export interface SerializeOptions {
  encoding?: XmlEncoding;
  /** Indentation for a readable document (default: none, one line). */
  indent?: string;
  /** Write the `<?xml …?>` declaration (default true). */
  declaration?: boolean;
}

/** Writes a tree as the bytes of one document in the encoding named by its declaration. */
export function serialize(root: XmlElement, options: SerializeOptions = {}): Buffer {
  const encoding = options.encoding ?? 'UTF-8';
  const latin1 = encoding === 'ISO-8859-1';
  const indent = options.indent ?? '';
  const parts: string[] = [];
  if (options.declaration ?? true) parts.push(`<?xml version="1.0" encoding="${encoding}"?>`, indent ? '\n' : '');
  writeElement(root, 0);
  if (indent) parts.push('\n');
  return Buffer.from(parts.join(''), latin1 ? 'latin1' : 'utf8');

  function writeElement(el: XmlElement, depth: number): void {
    checkName(el.name);
    const pad = indent ? indent.repeat(depth) : '';
    parts.push(pad, '<', el.name);
    for (const [key, value] of Object.entries(el.attributes)) {
      checkName(key);
      parts.push(' ', key, '="', escape(value, true, latin1, el.name), '"');
    }
    if (el.children.length === 0 && el.text === '') {
      parts.push('/>');
      return;
    }
    parts.push('>', escape(el.text, false, latin1, el.name));
    for (const c of el.children) {
      if (indent) parts.push('\n');
      writeElement(c, depth + 1);
    }
    if (indent && el.children.length > 0) parts.push('\n', pad);
    parts.push('</', el.name, '>');
  }
}

// XML names as we write them: ASCII letters, digits and . _ - (POCT1-A names are like OBS.normal_lo-hi_limit).
const NAME = /^[A-Za-z_][A-Za-z0-9._-]*$/;

function checkName(name: string): void {
  if (!NAME.test(name)) throw new RangeError(`not an XML name we write: ${JSON.stringify(name.slice(0, 40))}`);
}

/** Escapes character data; characters XML 1.0 cannot carry are refused, never silently changed. */
function escape(value: string, attribute: boolean, latin1: boolean, elementName: string): string {
  let out = '';
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    if (ch === '&') out += '&amp;';
    else if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (ch === '"' && attribute) out += '&quot;';
    // Attribute values are normalised by parsers (tab/CR/LF become spaces): references survive.
    else if (ch === '\t' || ch === '\n') out += attribute ? `&#${cp};` : ch;
    else if (ch === '\r') out += '&#13;';
    else if (cp < 0x20 || (cp >= 0xd800 && cp <= 0xdfff) || cp === 0xfffe || cp === 0xffff) {
      throw new RangeError(`a value in <${elementName}> holds a character XML 1.0 cannot carry (U+${cp.toString(16).toUpperCase().padStart(4, '0')})`);
    } else if (latin1 && cp > 0xff) out += `&#x${cp.toString(16).toUpperCase()};`;
    else out += ch;
  }
  return out;
}
