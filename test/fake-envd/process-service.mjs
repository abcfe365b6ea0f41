// process.Process for the fake envd, on top of ProcessTable.
import { Code, ConnectError } from '@connectrpc/connect';
import { EventStream, keepaliveMsFromHeaders } from './event-stream.mjs';
import { PathError, UnknownUserError, lookupUser, userFromAuthorization } from './paths.mjs';
import { ProcessError } from './processes.mjs';
import { Signal } from './gen/process/process_pb.js';

const KIND_TO_CODE = { invalid: Code.InvalidArgument, internal: Code.Internal, unknown: Code.Unknown };

/** Maps fixture errors to the Connect errors envd returns. */
export function toConnectError(err) {
  if (err instanceof ConnectError) return err;
  if (err instanceof ProcessError) return new ConnectError(err.message, KIND_TO_CODE[err.kind] ?? Code.Internal);
  if (err instanceof PathError) return new ConnectError(err.message, Code.InvalidArgument);
  if (err instanceof UnknownUserError) return new ConnectError(err.message, Code.Unauthenticated);
  return new ConnectError(String(err?.message ?? err), Code.Internal);
}

function selectorText(selector) {
  if (selector?.case === 'pid') return `pid ${selector.value}`;
  if (selector?.case === 'tag') return `tag ${selector.value}`;
  return null;
}

const keepaliveEvent = () => ({ event: { event: { case: 'keepalive', value: {} } } });
const startEvent = (pid) => ({ event: { event: { case: 'start', value: { pid } } } });
const dataEvent = (output) => ({ event: { event: { case: 'data', value: { output } } } });
const endEvent = (end) => ({ event: { event: { case: 'end', value: end } } });

/** Streams a process's events into `stream` until it ends; returns the unsubscribe function. */
function attach(proc, stream) {
  const onData = (output) => stream.push(dataEvent(output));
  const onEnd = (end) => {
    stream.push(endEvent(end));
    stream.end();
  };
  proc.on('data', onData);
  proc.once('end', onEnd);
  return () => {
    proc.off('data', onData);
    proc.off('end', onEnd);
  };
}

/** @param {import('./processes.mjs').ProcessTable} table */
export function createProcessService(table) {
  function getProcess(selector) {
    const text = selectorText(selector?.selector);
    if (!text) throw new ConnectError(`invalid input type ${selector?.selector?.case ?? 'nil'}`, Code.Unimplemented);
    const proc = table.find(selector.selector);
    if (!proc) throw new ConnectError(`process with ${text} not found`, Code.NotFound);
    return proc;
  }

  function handleInput(proc, input) {
    const which = input?.input?.case;
    if (which !== 'stdin' && which !== 'pty') {
      throw new ConnectError(`invalid input type ${which ?? 'nil'}`, Code.Unimplemented);
    }
    try {
      proc.writeInput(which, input.input.value);
    } catch (err) {
      throw toConnectError(err);
    }
  }

  return {
    list() {
      return {
        processes: table.list().map((p) => ({ pid: p.pid, tag: p.tag, config: p.config })),
      };
    },

    async *start(req, ctx) {
      let proc;
      try {
        const user = lookupUser(userFromAuthorization(ctx.requestHeader.get('authorization')));
        const timeoutMs = Number(ctx.requestHeader.get('connect-timeout-ms') || 0);
        proc = await table.start(
          { config: req.process ?? { cmd: '', args: [], envs: {} }, pty: req.pty, tag: req.tag, stdin: req.stdin },
          user,
          timeoutMs,
        );
      } catch (err) {
        throw toConnectError(err);
      }
      const stream = new EventStream({
        signal: ctx.signal,
        keepaliveMs: keepaliveMsFromHeaders(ctx.requestHeader),
        keepalive: keepaliveEvent,
      });
      // the start event first, before any output (attach happens before any I/O callback runs)
      stream.push(startEvent(proc.pid));
      const detach = attach(proc, stream);
      try {
        yield* stream;
      } finally {
        detach();
        stream.end();
      }
    },

    async *connect(req, ctx) {
      const proc = getProcess(req.process);
      const stream = new EventStream({
        signal: ctx.signal,
        keepaliveMs: keepaliveMsFromHeaders(ctx.requestHeader),
        keepalive: keepaliveEvent,
      });
      stream.push(startEvent(proc.pid));
      const detach = attach(proc, stream);
      try {
        yield* stream;
      } finally {
        detach();
        stream.end();
      }
    },

    async update(req) {
      const proc = getProcess(req.process);
      if (req.pty) {
        try {
          await proc.resize(req.pty.size?.cols ?? 0, req.pty.size?.rows ?? 0);
        } catch (err) {
          if (err instanceof ProcessError) throw toConnectError(err);
          throw new ConnectError(`error resizing tty: ${err.message}`, Code.Internal);
        }
      }
      return {};
    },

    async streamInput(requests) {
      let proc = null;
      try {
        for await (const req of requests) {
          switch (req.event.case) {
            case 'start':
              proc = getProcess(req.event.value.process);
              break;
            case 'data':
              if (!proc) throw new ConnectError('no process selected: send a start event first', Code.FailedPrecondition);
              handleInput(proc, req.event.value.input);
              break;
            case 'keepalive':
              break;
            default:
              throw new ConnectError(`invalid event type ${req.event.case ?? 'nil'}`, Code.Unimplemented);
          }
        }
      } catch (err) {
        if (err instanceof ConnectError && err.code !== Code.Unknown && err.code !== Code.Canceled) throw err;
        throw new ConnectError(`error streaming input: ${err.message}`, Code.Unknown);
      }
      return {};
    },

    sendInput(req) {
      const proc = getProcess(req.process);
      handleInput(proc, req.input);
      return {};
    },

    sendSignal(req) {
      const proc = getProcess(req.process);
      const name = { [Signal.SIGKILL]: 'SIGKILL', [Signal.SIGTERM]: 'SIGTERM' }[req.signal];
      if (!name) throw new ConnectError(`invalid signal: SIGNAL_${Signal[req.signal] ?? req.signal}`, Code.Unimplemented);
      try {
        proc.signal(name);
      } catch (err) {
        throw toConnectError(err);
      }
      return {};
    },

    closeStdin(req) {
      const proc = getProcess(req.process);
      try {
        proc.closeStdin();
      } catch (err) {
        throw toConnectError(err);
      }
      return {};
    },
  };
}
