/**
 * Asks a live Node process where its main thread is, through the inspector protocol:
 * SIGUSR1 makes it open the inspector on the port it was started with
 * (`--inspect-port`), then Debugger.pause stops the main thread wherever it is (even in
 * a busy loop) and the paused event carries the call stack. The process is resumed and
 * the inspector left open (it listens on 127.0.0.1 only).
 */
import type { ChildProcess } from 'node:child_process';
import WebSocket from 'ws';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly location: { readonly lineNumber: number; readonly columnNumber: number };
}

export async function pausedStack(child: ChildProcess, port: number, timeoutMs = 8_000): Promise<string> {
  child.kill('SIGUSR1');
  const deadline = Date.now() + timeoutMs;
  let url: string | undefined;
  while (url === undefined && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    try {
      const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(1_000) })).json()) as { webSocketDebuggerUrl?: string }[];
      url = list[0]?.webSocketDebuggerUrl;
    } catch {
      // not open yet
    }
  }
  if (url === undefined) throw new Error(`the inspector did not open on port ${port}`);
  const ws = new WebSocket(url);
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no paused event')), Math.max(1_000, deadline - Date.now()));
      ws.on('error', reject);
      ws.on('open', () => {
        ws.send(JSON.stringify({ id: 1, method: 'Debugger.enable' }));
        ws.send(JSON.stringify({ id: 2, method: 'Debugger.pause' }));
      });
      ws.on('message', (data: WebSocket.RawData) => {
        const msg = JSON.parse(data.toString()) as { method?: string; params?: { callFrames?: CallFrame[] } };
        if (msg.method !== 'Debugger.paused') return;
        clearTimeout(timer);
        const frames = (msg.params?.callFrames ?? []).slice(0, 30);
        ws.send(JSON.stringify({ id: 3, method: 'Debugger.resume' }));
        resolve(frames.map((f) => `    at ${f.functionName || '<anonymous>'} (${f.url.replace(/^file:\/\//, '')}:${f.location.lineNumber + 1}:${f.location.columnNumber + 1})`).join('\n'));
      });
    });
  } finally {
    setTimeout(() => ws.close(), 200);
  }
}
