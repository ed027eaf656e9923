/**
 * A small line-and-point chart as standalone SVG, shared by the ROC and FROC figures: the same
 * markup is inlined in the HTML report and rasterised to PNG, so both always show the same figure.
 */
export interface ChartSeries {
  name: string;
  color: string;
  points: readonly (readonly [number, number])[];
  /** A stepped curve, or isolated markers (a reader's single operating point). */
  style: 'line' | 'markers';
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  xMax: number;
  yMax: number;
  series: readonly ChartSeries[];
  /** Draw the chance line y = x (ROC space). */
  chanceLine: boolean;
}

const WIDTH = 520;
const PLOT_HEIGHT = 430;
const MARGIN = { left: 70, right: 20, top: 40 };
const AXIS_SPACE = 62;
const LEGEND_LINE = 18;
const TICKS = 5;

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function format(value: number): string {
  return Number(value.toFixed(2)).toString();
}

export function renderChart(spec: ChartSpec): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = PLOT_HEIGHT;
  // The legend grows with the series (one line per reader), so the figure does too.
  const height = MARGIN.top + plotHeight + AXIS_SPACE + spec.series.length * LEGEND_LINE + 10;
  const sx = (x: number): number => MARGIN.left + (x / spec.xMax) * plotWidth;
  const sy = (y: number): number => MARGIN.top + plotHeight - (y / spec.yMax) * plotHeight;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="13">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(spec.title)}</text>`,
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#333333"/>`,
  ];
  for (let i = 0; i <= TICKS; i++) {
    const x = (spec.xMax * i) / TICKS;
    const y = (spec.yMax * i) / TICKS;
    parts.push(
      `<line x1="${sx(x)}" y1="${MARGIN.top}" x2="${sx(x)}" y2="${MARGIN.top + plotHeight}" stroke="#e5e5e5"/>`,
      `<line x1="${MARGIN.left}" y1="${sy(y)}" x2="${MARGIN.left + plotWidth}" y2="${sy(y)}" stroke="#e5e5e5"/>`,
      `<text x="${sx(x)}" y="${MARGIN.top + plotHeight + 18}" text-anchor="middle">${format(x)}</text>`,
      `<text x="${MARGIN.left - 8}" y="${sy(y) + 4}" text-anchor="end">${format(y)}</text>`,
    );
  }
  parts.push(
    `<text x="${MARGIN.left + plotWidth / 2}" y="${MARGIN.top + plotHeight + 40}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`,
    `<text transform="translate(18 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`,
  );
  if (spec.chanceLine) {
    parts.push(`<line x1="${sx(0)}" y1="${sy(0)}" x2="${sx(spec.xMax)}" y2="${sy(spec.yMax)}" stroke="#999999" stroke-dasharray="5 5"/>`);
  }
  spec.series.forEach((series, index) => {
    if (series.style === 'line') {
      const path = series.points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${sx(x).toFixed(2)} ${sy(y).toFixed(2)}`).join(' ');
      parts.push(`<path d="${path}" fill="none" stroke="${series.color}" stroke-width="2.5"/>`);
    } else {
      for (const [x, y] of series.points) {
        parts.push(`<circle cx="${sx(x).toFixed(2)}" cy="${sy(y).toFixed(2)}" r="6" fill="${series.color}" stroke="#ffffff"/>`);
      }
    }
    const legendY = MARGIN.top + plotHeight + AXIS_SPACE + index * LEGEND_LINE;
    parts.push(
      `<rect x="${MARGIN.left}" y="${legendY - 10}" width="14" height="10" fill="${series.color}"/>`,
      `<text x="${MARGIN.left + 22}" y="${legendY}">${escapeXml(series.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
