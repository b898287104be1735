// The live feed of a chart set: the viewers' hub (/hubs/metrics, MetricsHub) over the SignalR browser client
// (loaded as a library by the page). The hub calls the methods of IMetricsViewer; the names listened to here are
// those method names, which a test checks against the interface.

// A live message packs its points (LivePointsCodec): unpadded base64url of the count (varint), the values as
// little-endian Float64 (NaN for a gap), then steps and Unix ms times as zigzag varints of the difference from the
// one before. Decoded here to the shape the stored series use (null where NaN), so live and reloaded points are the
// same. Numbers are read with arithmetic, not 32-bit bit operations, so steps and times up to 2^53 stay exact.
export function unpack(msg) {
  const text = atob(msg.packed.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  const view = new DataView(bytes.buffer);
  let pos = 0;
  const varint = () => {
    let result = 0, scale = 1, b;
    do { b = bytes[pos++]; result += (b & 0x7f) * scale; scale *= 128; } while (b & 0x80);
    return result;
  };
  const deltas = n => {
    const out = new Array(n);
    let previous = 0;
    for (let i = 0; i < n; i++) {
      const z = varint();
      previous += z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      out[i] = previous;
    }
    return out;
  };
  const n = varint();
  const values = new Array(n);
  for (let i = 0; i < n; i++, pos += 8) {
    const v = view.getFloat64(pos, true);
    values[i] = Number.isFinite(v) ? v : null;
  }
  const steps = deltas(n);
  const times = deltas(n);
  return { runId: msg.runId, metric: msg.metric, steps, values, times };
}

// Connects, watches every run (again after a reconnect) and hands each decoded message to onPoints.
export function connectLive(runs, onPoints) {
  const connection = new signalR.HubConnectionBuilder().withUrl('/hubs/metrics').withAutomaticReconnect().build();
  connection.on('Points', msg => onPoints(unpack(msg)));
  const watchAll = async () => {
    for (const r of runs) await connection.invoke('Watch', r.id, null);
  };
  connection.onreconnected(() => watchAll());
  const started = connection.start().then(() => watchAll());
  return { connection, started };
}
