/**
 * The baseline of `npm run bench`: a bare drachtio-srf B2BUA with no policy at all. Every INVITE
 * is bridged to one fixed agent URI; nothing is looked up, counted or logged.
 *
 *   node --import tsx bench/bareB2bua.ts <drachtio host> <admin port> <secret> <agent sip uri>
 */
import Srf from 'drachtio-srf';

const [host = '127.0.0.1', port = '9022', secret = 'cymru', agentUri = 'sip:agent@127.0.0.1:5090'] = process.argv.slice(2);

const srf = new Srf();
srf.connect({ host, port: Number(port), secret });
srf.on('connect', (err: Error | null, hostport: string) => {
  if (err) throw err;
  process.stdout.write(`bare B2BUA connected to drachtio (SIP on ${hostport})\n`);
});
srf.on('error', (err: Error) => process.stderr.write(`drachtio: ${err.message}\n`));

srf.invite((req, res) => {
  srf.createB2BUA(req, res, agentUri, { passFailure: true }).then(
    ({ uas, uac }) => {
      uas.on('destroy', () => uac.destroy());
      uac.on('destroy', () => uas.destroy());
    },
    () => undefined, // the failure was already passed back to the caller
  );
});

process.on('SIGTERM', () => {
  srf.disconnect();
  process.exit(0);
});
