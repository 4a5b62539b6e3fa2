// Preloaded (node -r) into the processes the demo starts (Node-RED, the emulator). They talk to the demo over
// an IPC channel only to notice its end: when the demo dies, even by kill -9, the channel closes and the child
// stops itself as on Ctrl-C (Node-RED stops its flows, so tdengine-write can flush), instead of living on as
// an orphan that holds the port. A child started without a channel is not affected.
const GRACE_MS = 15000;

if (process.channel) {
  // The channel must not keep the child alive by itself.
  process.channel.unref();
  process.once("disconnect", () => {
    process.kill(process.pid, "SIGINT");
    setTimeout(() => process.exit(1), GRACE_MS).unref();
  });
}
