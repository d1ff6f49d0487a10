import { runTransportTests } from '../../src/testing/transport-tests'
import { PortTransport } from './port-transport'

runTransportTests(
  'message port (the example of docs/transports.md)',
  () => {
    const { port1, port2 } = new MessageChannel()
    return { a: new PortTransport(port1), b: new PortTransport(port2) }
  },
  { ordered: true, quietMs: 30 },
)
