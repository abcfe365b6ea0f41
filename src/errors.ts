// Bodies the edge writes itself. JSON.stringify escapes every reflected value.
import type { Rejection } from './types';

/** Connect-style JSON error body: `{"code":"invalid_argument","message":"…"}`. */
export function connectErrorJson(rejection: Rejection): string {
  return JSON.stringify({ code: rejection.code, message: rejection.message });
}
