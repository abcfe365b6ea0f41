// Compares a classification with a vector's `expect`. Plain ES5-style JavaScript on purpose:
// the Node unit tests and the real njs CLI (test/njs/replay.mjs) import this same file.

/** The field of a classification a vector key names (`status` is the rejection's HTTP status). */
function actualField(result, key) {
  if (key === 'status') return result.rejection ? result.rejection.status : undefined;
  return result[key];
}

/** Lines describing every expected field that differs; empty when the vector holds. */
export default function vectorMismatches(vector, result) {
  var out = [];
  var keys = Object.keys(vector.expect);
  for (var i = 0; i < keys.length; i++) {
    var want = vector.expect[keys[i]];
    var got = actualField(result, keys[i]);
    if (got !== want) out.push(keys[i] + ': expected ' + JSON.stringify(want) + ', got ' + JSON.stringify(got));
  }
  if ((result.mode === 'reject') !== (result.rejection !== undefined)) out.push('rejection set without reject mode, or the reverse');
  return out;
}
