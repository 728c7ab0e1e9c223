import express from 'express';

/**
 * The baseline of the preview benchmark: express.static over a folder, in a process of its own
 * like the gateway. Prints `listening <port>` once it accepts connections.
 */
const root = process.argv[2];
if (root === undefined) {
  process.stderr.write('usage: node static-server.js <folder>\n');
  process.exit(2);
}

const app = express();
app.use(express.static(root));
const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  process.stdout.write(`listening ${port}\n`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
