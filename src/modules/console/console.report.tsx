// The impact report in the console: `/console/{cluster}/report?from=&to=` with the figures in words and
// simple bar charts drawn on the server as SVG (no chart script), and the same as CSV. The reports
// service computes it, as for the API.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ORGANISATION_TYPES, type Cluster } from '../../db/schema.js';
import { isAppError } from '../../errors.js';
import { messages } from '../../shared/messages.js';
import { problemInWords } from '../../shared/pages.js';
import type { ClustersService } from '../clusters/clusters.service.js';
import type { ImpactReport, ReportsService } from '../reports/reports.service.js';
import { reportCsv } from '../reports/reports.view.js';
import type { ConsoleContext } from './console.context.js';
import { ConsoleFrame, type ConsoleFrameData } from './console.views.js';

const m = messages.console;

interface Bar {
  /** What the bar's row says (short: it shares the width with the bar). */
  label: string;
  /** What a screen reader hears for it, when more than the label (the huddle's title too). */
  spoken?: string;
  values: number[];
}

const COLOURS = ['#1d4ed8', '#b45309'];
const ROW = 28;
const LABEL_WIDTH = 150;
const CHART_WIDTH = 520;

/**
 * A horizontal bar chart as SVG: one row a bar (or two side by side), scaled to the largest value, each
 * with its number. Its name for screen readers says every value, so nothing is only in the picture.
 */
function BarChart(props: { id: string; title: string; bars: Bar[]; series?: string[] }) {
  if (props.bars.length === 0) return <p>{m.nothingYet}</p>;
  const max = Math.max(1, ...props.bars.flatMap((bar) => bar.values));
  const lanes = props.bars[0]!.values.length;
  const laneHeight = (ROW - 8) / lanes;
  const span = CHART_WIDTH - LABEL_WIDTH - 40;
  const height = props.bars.length * ROW + (props.series ? 24 : 0);
  const spoken = props.bars
    .map(
      (bar) =>
        `${bar.spoken ?? bar.label} ${bar.values.map((value, i) => (props.series ? `${value} ${props.series[i]}` : value)).join(', ')}`,
    )
    .join('; ');
  return (
    <figure>
      <figcaption id={`${props.id}-title`} safe>
        {props.title}
      </figcaption>
      <svg
        role="img"
        aria-label={m.chartOf(props.title, spoken)}
        viewBox={`0 0 ${CHART_WIDTH} ${height}`}
        width="100%"
        preserveAspectRatio="xMinYMin meet"
        class="chart"
      >
        {props.bars.map((bar, row) => (
          <g>
            <text x={LABEL_WIDTH - 8} y={row * ROW + ROW / 2 + 4} text-anchor="end" fill="currentColor" font-size="13" safe>
              {bar.label.length > 19 ? `${bar.label.slice(0, 18)}…` : bar.label}
            </text>
            {bar.values.map((value, lane) => {
              const y = row * ROW + 4 + lane * laneHeight;
              const width = Math.round((value / max) * span);
              return (
                <>
                  <rect x={LABEL_WIDTH} y={y} width={Math.max(width, 1)} height={laneHeight - 1} fill={COLOURS[lane]} />
                  <text x={LABEL_WIDTH + width + 4} y={y + laneHeight - 3} fill="currentColor" font-size="11" safe>
                    {String(value)}
                  </text>
                </>
              );
            })}
          </g>
        ))}
        {props.series
          ? props.series.map((name, lane) => (
              <>
                <rect x={LABEL_WIDTH + lane * 120} y={height - 16} width="12" height="12" fill={COLOURS[lane]} />
                <text x={LABEL_WIDTH + lane * 120 + 16} y={height - 6} fill="currentColor" font-size="12" safe>
                  {name}
                </text>
              </>
            ))
          : ''}
      </svg>
    </figure>
  );
}

function Figures(props: { report: ImpactReport }) {
  const { report } = props;
  const f = m.figures;
  const rows: [string, number][] = [
    [f.engaged, report.organisations.engaged],
    [f.firstTime, report.firstTimePitchers],
    [f.confirmed, report.pitches.confirmed],
    [f.registered, report.attendance.registered],
    [f.attended, report.attendance.attended],
    [f.registeredAttended, report.attendance.registeredAttended],
    [f.noShows, report.attendance.noShows],
    [f.unregistered, report.attendance.unregisteredAttended],
    [f.people, report.attendance.people],
    [f.repeat, report.attendance.repeatPeople],
  ];
  return (
    <dl class="facts inline">
      {rows.map(([label, value]) => (
        <>
          <dt safe>{label}</dt>
          <dd safe>{String(value)}</dd>
        </>
      ))}
    </dl>
  );
}

function ReportPage(props: {
  frame: ConsoleFrameData;
  from: string;
  to: string;
  report: ImpactReport | null;
  csv: string | null;
  error?: string | null;
}) {
  const { report } = props;
  const action = `/console/${props.frame.current!.clusterSlug}/report`;
  return (
    <ConsoleFrame title={m.report} frame={props.frame} section="report" error={props.error}>
      <p>{m.reportIntro}</p>
      <form method="get" action={action} class="inline">
        <span>
          <label for="from">{m.reportFrom}</label>
          <input id="from" name="from" type="date" value={props.from} required />
        </span>
        <span>
          <label for="to">{m.reportTo}</label>
          <input id="to" name="to" type="date" value={props.to} required />
        </span>
        <button type="submit">{m.reportShow}</button>
      </form>
      {report && props.csv ? (
        <>
          <p>
            <span safe>{m.reportHuddles(report.huddles)}</span>{' '}
            <a href={props.csv} download="">
              {m.reportCsv}
            </a>
          </p>
          <Figures report={report} />
          <BarChart
            id="types"
            title={m.byType}
            bars={ORGANISATION_TYPES.map((type) => ({ label: m.organisationTypes[type], values: [report.organisations.byType[type]] }))}
          />
          <BarChart
            id="themes"
            title={m.byTheme}
            bars={report.pitches.byTheme.map(({ theme, count }) => ({ label: theme ?? m.noTheme, values: [count] }))}
          />
          <BarChart
            id="huddles"
            title={m.perHuddle}
            series={[m.registeredShort, m.cameShort]}
            bars={report.perHuddle.map((huddle) => ({
              label: `${huddle.start} ${huddle.title}`,
              values: [huddle.registered, huddle.attended],
            }))}
          />
        </>
      ) : (
        ''
      )}
    </ConsoleFrame>
  );
}

export function consoleReportRoutes(
  app: FastifyInstance,
  context: ConsoleContext,
  deps: { reports: ReportsService; clusters: ClustersService },
) {
  /** The days asked for, or this quarter so far in the cluster's zone. */
  function daysOf(request: FastifyRequest, cluster: Cluster): { from: string; to: string } {
    const query = request.query as { from?: unknown; to?: unknown };
    const quarter = deps.reports.thisQuarter(cluster);
    const day = (value: unknown, fallback: string) => (typeof value === 'string' && value !== '' ? value.slice(0, 10) : fallback);
    return { from: day(query.from, quarter.from), to: day(query.to, quarter.to) };
  }

  app.get('/console/:cluster/report', { schema: { hide: true } }, async (request, reply) => {
    const here = context.inCluster(request, reply);
    if (!here) return reply;
    const cluster = deps.clusters.getById(here.principal.clusterId);
    const { from, to } = daysOf(request, cluster);
    try {
      const report = deps.reports.impact(cluster, from, to);
      const csv = `/console/${cluster.slug}/report.csv?${new URLSearchParams({ from, to }).toString()}`;
      return context.noStore(reply).html(<ReportPage frame={here.frame} from={from} to={to} report={report} csv={csv} />);
    } catch (error) {
      if (!isAppError(error) || error.statusCode >= 500) throw error;
      return context
        .noStore(reply)
        .code(error.statusCode)
        .html(<ReportPage frame={here.frame} from={from} to={to} report={null} csv={null} error={problemInWords(error)} />);
    }
  });

  app.get('/console/:cluster/report.csv', { schema: { hide: true } }, async (request, reply) => {
    const here = context.inCluster(request, reply);
    if (!here) return reply;
    const cluster = deps.clusters.getById(here.principal.clusterId);
    const { from, to } = daysOf(request, cluster);
    const report = deps.reports.impact(cluster, from, to);
    return context
      .noStore(reply)
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="impact-${cluster.slug}-${from}-${to}.csv"`)
      .send(reportCsv(report));
  });
}
