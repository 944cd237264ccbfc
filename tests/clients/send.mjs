// Sends page + identify + track + alias with a real Node client, pointed at idgraph.
// usage: node send.mjs segment|rudderstack HOST WRITE_KEY IDS_JSON
// IDS_JSON: {"anonymousId", "userId", "previousId", "email", "phone", "orderId"}
import { Analytics as SegmentAnalytics } from '@segment/analytics-node'
import RudderAnalytics from '@rudderstack/rudder-sdk-node'

const [kind, host, writeKey, idsJson] = process.argv.slice(2)
const ids = JSON.parse(idsJson)
const context = { ip: '203.0.113.77', userAgent: 'Mozilla/5.0 (node test)' }

const calls = (client, done) => {
  client.page({ anonymousId: ids.anonymousId, name: 'Pricing', properties: { path: '/pricing' }, context }, done)
  client.identify({ userId: ids.userId, anonymousId: ids.anonymousId,
                    traits: { email: ids.email, phone: ids.phone, name: 'Node Tester', plan: 'pro' }, context }, done)
  client.track({ userId: ids.userId, event: 'Order Completed',
                 properties: { order_id: ids.orderId, revenue: 42.5, currency: 'EUR' }, context }, done)
  client.alias({ previousId: ids.previousId, userId: ids.userId }, done)
}

let failures = 0
const done = (err) => { if (err) { failures += 1; console.error('send failed:', err.message || err) } }

if (kind === 'segment') {
  const client = new SegmentAnalytics({ writeKey, host, maxEventsInBatch: 10, flushInterval: 200 })
  client.on('error', (err) => { failures += 1; console.error('segment error:', err.code, err.reason || err.message) })
  calls(client, done)
  await client.closeAndFlush({ timeout: 20000 })
} else {
  const client = new RudderAnalytics(writeKey, { dataPlaneUrl: host, flushAt: 10, flushInterval: 200, logLevel: 'error' })
  calls(client, done)
  await client.flush()
}
if (failures) process.exit(1)
console.log('sent 4 calls')
