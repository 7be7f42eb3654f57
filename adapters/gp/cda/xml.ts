/** A tiny XML writer: elements as strings, attributes and text escaped, nothing XML 1.0 cannot carry. */

export type Attributes = Record<string, string | number | undefined>;
export type Child = string | false | undefined | null;

/** Characters XML 1.0 cannot carry at all (control characters, lone surrogates, U+FFFE/U+FFFF). */
const NOT_XML = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export class XmlText {
  /** How many characters XML could not carry and were written as U+FFFD. */
  replaced = 0;

  text(value: string): string {
    return this.clean(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
  }

  attribute(value: string): string {
    return this.clean(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;').replace(/\r/g, '&#13;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');
  }

  el(name: string, attributes: Attributes = {}, ...children: Child[]): string {
    const attrs = Object.entries(attributes)
      .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
      .map(([k, v]) => ` ${k}="${this.attribute(String(v))}"`)
      .join('');
    const content = children.filter((c): c is string => typeof c === 'string').join('');
    return content === '' ? `<${name}${attrs}/>` : `<${name}${attrs}>${content}</${name}>`;
  }

  private clean(value: string): string {
    return value.replace(NOT_XML, () => {
      this.replaced++;
      return '\ufffd';
    });
  }
}
