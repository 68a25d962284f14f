/**
 * A self-contained HTML report (inline SVG charts, no scripts, no CDN): rate vs setup latency,
 * rate vs reached rate, rate vs failed calls, and tables of every figure.
 */

export interface ChartLine {
  readonly name: string;
  readonly color: string;
  readonly dashed?: boolean;
  readonly points: readonly (readonly [number, number | null])[];
}

export interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly lines: readonly ChartLine[];
  readonly width?: number;
  readonly height?: number;
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Round-number ticks covering 0..max. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

const fmt = (v: number): string => (Math.abs(v) >= 100 || Number.isInteger(v) ? v.toFixed(0) : v.toPrecision(3));

/** A line chart as an <svg> element; null y values break a line. */
export function lineChart(spec: ChartSpec): string {
  const width = spec.width ?? 640;
  const height = spec.height ?? 320;
  const m = { left: 64, right: 16, top: 32, bottom: 48 };
  const xs = spec.lines.flatMap((l) => l.points.map((p) => p[0]));
  const ys = spec.lines.flatMap((l) => l.points.map((p) => p[1]).filter((y): y is number => y !== null && Number.isFinite(y)));
  const xMin = xs.length > 0 ? Math.min(0, ...xs) : 0;
  const xTicks = niceTicks(xs.length > 0 ? Math.max(...xs) : 1);
  const yTicks = niceTicks(ys.length > 0 ? Math.max(...ys) : 1);
  const xMax = xTicks[xTicks.length - 1]!;
  const yMax = yTicks[yTicks.length - 1]!;
  const px = (x: number): number => m.left + ((x - xMin) / (xMax - xMin || 1)) * (width - m.left - m.right);
  const py = (y: number): number => height - m.bottom - (y / (yMax || 1)) * (height - m.top - m.bottom);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(spec.title)}">`);
  parts.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${esc(spec.title)}</text>`);
  for (const t of yTicks) {
    parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${py(t)}" y2="${py(t)}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.left - 6}" y="${py(t) + 4}" text-anchor="end" font-size="11">${fmt(t)}</text>`);
  }
  for (const t of xTicks) {
    parts.push(`<line x1="${px(t)}" x2="${px(t)}" y1="${height - m.bottom}" y2="${height - m.bottom + 4}" stroke="#333"/>`);
    parts.push(`<text x="${px(t)}" y="${height - m.bottom + 16}" text-anchor="middle" font-size="11">${fmt(t)}</text>`);
  }
  parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${height - m.bottom}" y2="${height - m.bottom}" stroke="#333"/>`);
  parts.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${height - m.bottom}" stroke="#333"/>`);
  parts.push(`<text x="${(m.left + width - m.right) / 2}" y="${height - 10}" text-anchor="middle" font-size="12">${esc(spec.xLabel)}</text>`);
  parts.push(`<text x="14" y="${(m.top + height - m.bottom) / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${(m.top + height - m.bottom) / 2})">${esc(spec.yLabel)}</text>`);
  spec.lines.forEach((line, i) => {
    const sorted = [...line.points].sort((a, b) => a[0] - b[0]);
    let d = '';
    let pen = false;
    for (const [x, y] of sorted) {
      if (y === null || !Number.isFinite(y)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${px(x).toFixed(1)},${py(y).toFixed(1)}`;
      pen = true;
    }
    const dash = line.dashed ? ' stroke-dasharray="6 4"' : '';
    if (d) parts.push(`<path d="${d}" fill="none" stroke="${line.color}" stroke-width="2"${dash}/>`);
    for (const [x, y] of sorted) {
      if (y !== null && Number.isFinite(y)) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${line.color}"><title>${esc(line.name)}: ${fmt(x)} -> ${fmt(y)}</title></circle>`);
    }
    const ly = m.top + 4 + i * 16;
    parts.push(`<line x1="${m.left + 10}" x2="${m.left + 34}" y1="${ly}" y2="${ly}" stroke="${line.color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${m.left + 40}" y="${ly + 4}" font-size="11">${esc(line.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

export interface Table {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | number | null | boolean | undefined)[])[];
}

const cell = (v: string | number | null | boolean | undefined): string =>
  v === null || v === undefined ? '' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : String(v);

export function htmlTable(t: Table): string {
  const head = t.columns.map((c) => `<th>${esc(c)}</th>`).join('');
  const body = t.rows.map((r) => `<tr>${r.map((v) => `<td>${esc(cell(v))}</td>`).join('')}</tr>`).join('\n');
  return `<h2>${esc(t.title)}</h2><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

export function renderHtml(page: { title: string; subtitle: string; summary?: readonly string[]; charts: readonly ChartSpec[]; tables: readonly Table[] }): string {
  const style = `body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0 24px;font-size:12px}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:16px}.summary li{margin:2px 0}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(page.title)}</title><style>${style}</style></head>
<body><h1>${esc(page.title)}</h1><p>${esc(page.subtitle)}</p>
${page.summary && page.summary.length > 0 ? `<ul class="summary">${page.summary.map((s) => `<li>${esc(s)}</li>`).join('')}</ul>` : ''}
<div class="charts">${page.charts.map(lineChart).join('\n')}</div>
${page.tables.map(htmlTable).join('\n')}
</body></html>
`;
}

/** The three standard charts of a set of step series (one per system under test). */
export function stepCharts(series: readonly { name: string; color: string; steps: readonly { offered_cps: number; reached_cps: number; failure_pct: number; p50: number | null; p99: number | null }[] }[]): ChartSpec[] {
  return [
    {
      title: 'INVITE -> 200 OK latency',
      xLabel: 'offered calls per second',
      yLabel: 'ms',
      lines: series.flatMap((s) => [
        { name: `${s.name} p50`, color: s.color, points: s.steps.map((p) => [p.offered_cps, p.p50] as const) },
        { name: `${s.name} p99`, color: s.color, dashed: true, points: s.steps.map((p) => [p.offered_cps, p.p99] as const) },
      ]),
    },
    {
      title: 'Reached vs offered calls per second',
      xLabel: 'offered calls per second',
      yLabel: 'answered calls per second',
      lines: series.map((s) => ({ name: s.name, color: s.color, points: s.steps.map((p) => [p.offered_cps, p.reached_cps] as const) })),
    },
    {
      title: 'Failed calls',
      xLabel: 'offered calls per second',
      yLabel: '% of calls placed',
      lines: series.map((s) => ({ name: s.name, color: s.color, points: s.steps.map((p) => [p.offered_cps, p.failure_pct] as const) })),
    },
  ];
}
