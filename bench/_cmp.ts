import { mainThreadProfile, summarizeProfileFile } from './lib/profile.js';
const a = summarizeProfileFile(mainThreadProfile(process.argv[2]!)!, 200);
const b = summarizeProfileFile(mainThreadProfile(process.argv[3]!)!, 200);
console.log('busy edge', (a.busyMs/1000).toFixed(2), 'bare', (b.busyMs/1000).toFixed(2));
const names = new Set([...a.byOwner, ...b.byOwner].map(e => e.name));
const rows = [...names].map(n => [n, (a.byOwner.find(e => e.name === n)?.ms ?? 0) / 1000, (b.byOwner.find(e => e.name === n)?.ms ?? 0) / 1000] as const).sort((x, y) => (y[1] - y[2]) - (x[1] - x[2]));
for (const [n, x, y] of rows.slice(0, 28)) console.log(n.padEnd(40), x.toFixed(2).padStart(6), y.toFixed(2).padStart(6), (x - y).toFixed(2).padStart(6));
