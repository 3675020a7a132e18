// A real unix datagram socket, as systemd holds for Type=notify, read by Debian's python3: one
// entry per datagram, its lines joined with '|'.
import { spawn } from 'node:child_process';

export function listenNotifySocket(path: string): Promise<{ messages: string[]; stop(): Promise<void> }> {
  const py = spawn('/usr/bin/python3', ['-u', '-c', `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    print(s.recv(4096).decode().replace("\\n", "|"), flush=True)
`, path]);
  const messages: string[] = [];
  return new Promise((resolve) => {
    py.stdout.setEncoding('utf8').on('data', (d: string) => {
      for (const line of d.split('\n').filter(Boolean)) {
        if (line === 'listening') resolve({ messages, stop: async () => { py.kill(); } });
        else messages.push(line);
      }
    });
  });
}
