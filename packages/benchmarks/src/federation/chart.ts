/** A small SVG bar chart of a federation benchmark run (one panel per figure, one bar per gateway). */

interface ChartRow {
  load: { requestsPerSecond: number; latencyMs: { p99: number } };
  requestsPerCpuSecond: number;
  peakRssMiB: number;
}

interface ChartReport {
  startedAt: string;
  machine: { nproc: number; cpuModel: string; loadAverage: number[] };
  gateways: Record<string, ChartRow>;
}

const COLORS: Record<string, string> = { ours: '#2f6fdf', stock: '#8a8f98', hive: '#e0a31a' };
const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderChart(report: ChartReport): string {
  const panels: { title: string; value: (row: ChartRow) => number; better: string }[] = [
    { title: 'requests/s', value: (row) => row.load.requestsPerSecond, better: 'higher is better' },
    { title: 'requests per CPU-second', value: (row) => row.requestsPerCpuSecond, better: 'higher is better' },
    { title: 'p99 latency (ms)', value: (row) => row.load.latencyMs.p99, better: 'lower is better' },
    { title: 'peak RSS (MiB)', value: (row) => row.peakRssMiB, better: 'lower is better' },
  ];
  const names = Object.keys(report.gateways);
  const panelWidth = 220;
  const barArea = 160;
  const width = panels.length * panelWidth + 20;
  const height = 290;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">Federation benchmark, 50 connections, one run (${escape(report.startedAt.slice(0, 16))} UTC)</text>`,
    `<text x="10" y="38" fill="#555">${escape(`${report.machine.nproc} vCPU ${report.machine.cpuModel}; load average at the end ${report.machine.loadAverage.join(' / ')}`)}</text>`,
  ];
  panels.forEach((panel, panelIndex) => {
    const x0 = 10 + panelIndex * panelWidth;
    const values = names.map((name) => panel.value(report.gateways[name]!));
    const max = Math.max(...values, 1e-9);
    const barWidth = Math.min(50, (panelWidth - 40) / names.length - 10);
    parts.push(`<text x="${x0}" y="62" font-weight="bold">${escape(panel.title)}</text>`);
    parts.push(`<text x="${x0}" y="76" fill="#777" font-size="10">${panel.better}</text>`);
    const baseY = 90 + barArea;
    parts.push(`<line x1="${x0}" y1="${baseY}" x2="${x0 + panelWidth - 30}" y2="${baseY}" stroke="#999"/>`);
    names.forEach((name, index) => {
      const value = values[index]!;
      const barHeight = (value / max) * (barArea - 20);
      const x = x0 + 10 + index * (barWidth + 10);
      parts.push(`<rect x="${x}" y="${baseY - barHeight}" width="${barWidth}" height="${barHeight}" fill="${COLORS[name] ?? '#444'}"/>`);
      parts.push(`<text x="${x + barWidth / 2}" y="${baseY - barHeight - 4}" text-anchor="middle" font-size="10">${Number(value.toFixed(1))}</text>`);
      parts.push(`<text x="${x + barWidth / 2}" y="${baseY + 14}" text-anchor="middle">${escape(name)}</text>`);
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
