/** The HTTP status a WebSocket upgrade gets: 101 when it opens, else the refusal's status. */
import { WebSocket } from 'ws'

export function upgradeStatus(url: string, protocols: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols)
    socket.on('unexpected-response', (request, response) => {
      resolve(response.statusCode ?? 0)
      request.destroy()
    })
    socket.on('open', () => {
      resolve(101)
      socket.close()
    })
    socket.on('error', (error) => reject(error))
  })
}
