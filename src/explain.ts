// The explain endpoint's core: a request described by plain fields → its classification.
import type { Classification, ClassifyOptions, RequestFacts } from './types';
import { classifyRequest } from './classify';

/** Field names of an explain query (`?host=…&uri=…`) or JSON body, and the fact each sets. */
const FIELDS: { readonly [field: string]: keyof RequestFacts } = {
  method: 'method',
  host: 'host',
  uri: 'uri',
  content_type: 'contentType',
  accept: 'accept',
  upgrade: 'upgrade',
  connection: 'connection',
  sandbox_id: 'sandboxIdHeader',
  sandbox_port: 'sandboxPortHeader',
};

export interface Explanation {
  request: RequestFacts;
  settings: ClassifyOptions;
  classification: Classification;
}

/** Only string fields count; anything else is ignored. Defaults: GET, no host, `/`. */
export function factsFromFields(fields: { [name: string]: unknown }): RequestFacts {
  const facts: RequestFacts = { method: 'GET', host: '', uri: '/' };
  const names = Object.keys(FIELDS);
  for (let i = 0; i < names.length; i++) {
    const value = fields[names[i]];
    if (typeof value === 'string') (facts as unknown as { [k: string]: string })[FIELDS[names[i]]] = value;
  }
  return facts;
}

export function explainRequest(fields: { [name: string]: unknown }, settings: ClassifyOptions): Explanation {
  const request = factsFromFields(fields);
  return { request: request, settings: settings, classification: classifyRequest(request, settings) };
}
