// Types of multipart.mjs for TypeScript tests.

export interface PartSink {
  write(chunk: Buffer): Promise<void>;
  end(): Promise<void>;
}

export class MultipartError extends Error {}
export function boundaryOf(contentType: string | undefined): string | null;
export function headerParams(value: string): Record<string, string>;
export function unescapeFormName(name: string): string;
export function readMultipart(
  source: AsyncIterable<Buffer>,
  boundary: string,
  onPart: (headers: Record<string, string>) => Promise<PartSink | null>,
): Promise<void>;
