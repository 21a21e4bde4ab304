// A dependency-free SVG bar chart: throughput per scenario, with p99 latency as a label.
export function renderChart(rows: { name: string; rps: number; p99: number }[]): string {
  const width = 720;
  const barH = 28;
  const gap = 12;
  const left = 160;
  const top = 40;
  const max = Math.max(...rows.map((r) => r.rps), 1);
  const height = top + rows.length * (barH + gap) + 20;
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const bars = rows.map((r, i) => {
    const y = top + i * (barH + gap);
    const w = Math.max(2, ((width - left - 150) * r.rps) / max);
    const color = r.name.startsWith('deputy') ? '#3b6fd8' : r.name === 'nginx' ? '#7a7a7a' : '#2e9e5b';
    return `<text x="${left - 8}" y="${y + barH / 2 + 5}" text-anchor="end" font-size="13">${esc(r.name)}</text>
<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color}" rx="3"/>
<text x="${left + w + 6}" y="${y + barH / 2 + 5}" font-size="12">${r.rps.toLocaleString('en')} req/s · p99 ${r.p99} ms</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="system-ui, sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${left}" y="24" font-size="15" font-weight="600">Throughput per scenario (higher is better)</text>
${bars.join('\n')}
</svg>
`;
}
