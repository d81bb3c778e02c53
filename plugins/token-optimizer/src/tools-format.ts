import type { FunctionTool } from '@flowgate/core';

/**
 * How OpenAI presents function tools to chat models: a TypeScript-like namespace prepended to the
 * system prompt. Counting tokens of this rendering (+ 9, − 4 when there is a system message) matches
 * the usage the API reports; see the README for the sources and the published counts it reproduces.
 */
export function renderToolsNamespace(tools: readonly FunctionTool[]): string {
  const lines = ['namespace functions {', ''];
  for (const tool of tools) {
    const f = tool.function;
    if (f.description) lines.push(`// ${f.description}`);
    const params = f.parameters as Schema | undefined;
    const props = params?.properties;
    if (params && isRecord(props) && Object.keys(props).length > 0) {
      lines.push(`type ${f.name} = (_: {`);
      const body = renderProperties(params, 0);
      if (body.length > 0) lines.push(body);
      lines.push('}) => any;');
    } else {
      lines.push(`type ${f.name} = () => any;`);
    }
    lines.push('');
  }
  lines.push('} // namespace functions');
  return lines.join('\n');
}

/** The loose JSON-schema subset the rendering reads. */
interface Schema {
  type?: unknown;
  description?: unknown;
  enum?: unknown;
  items?: unknown;
  properties?: unknown;
  required?: unknown;
}

function renderProperties(schema: Schema, indent: number): string {
  const props = schema.properties;
  if (!isRecord(props)) return '';
  const pad = ' '.repeat(indent);
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  const lines: string[] = [];
  for (const [name, raw] of Object.entries(props)) {
    const prop = (isRecord(raw) ? raw : {}) as Schema;
    // Descriptions of nested properties are not shown to the model.
    if (typeof prop.description === 'string' && prop.description && indent < 2)
      lines.push(`${pad}// ${prop.description}`);
    lines.push(`${pad}${name}${required.has(name) ? '' : '?'}: ${renderType(prop, indent)},`);
  }
  return lines.join('\n');
}

function renderType(prop: Schema, indent: number): string {
  const values = Array.isArray(prop.enum) ? prop.enum : undefined;
  switch (prop.type) {
    case 'string':
      return values ? values.map((v) => JSON.stringify(v)).join(' | ') : 'string';
    case 'integer':
    case 'number':
      return values ? values.map((v) => String(v)).join(' | ') : 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array':
      return isRecord(prop.items) ? `${renderType(prop.items as Schema, indent)}[]` : 'any[]';
    case 'object':
      return `{\n${renderProperties(prop, indent + 2)}\n${' '.repeat(indent)}}`;
    default:
      return 'any';
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
