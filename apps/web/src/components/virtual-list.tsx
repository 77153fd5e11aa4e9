/**
 * A windowed list for the chat: only the rows in (or near) the viewport are in the DOM, the
 * rest is two spacers whose heights are the measured (or estimated) heights of the rows they
 * stand for. Rows may differ in height: each rendered row is measured after layout as the
 * distance to the next one (so flex gaps and margins count), and the view keeps its anchor
 * row in place when rows are prepended (scroll-back) or re-measured. It sticks to the bottom
 * while the user is there, so new messages stay in view.
 */
import { type ReactNode, type UIEvent, useCallback, useLayoutEffect, useRef, useState } from 'react';

/** One row: a stable key and its content. */
export interface VirtualRow {
  readonly key: string;
  readonly render: () => ReactNode;
  /**
   * The row can move to another position when rows are prepended (a day separator whose day
   * continues in the older page): never used as the scroll anchor.
   */
  readonly movable?: boolean;
}

/** Height assumed for a row never rendered yet. */
const ESTIMATE = 56;
/** Pixels rendered above and below the viewport. */
const OVERSCAN = 600;
/** Within this distance of the top, older rows are asked for. */
const NEAR_TOP = 400;
/** Within this distance of the bottom counts as "at the bottom". */
const STICK = 48;

/** Index of the first row whose end lies after `y` (offsets has rows+1 entries). */
function firstAfter(offsets: readonly number[], y: number): number {
  let lo = 0;
  let hi = offsets.length - 2;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((offsets[mid + 1] ?? 0) > y) hi = mid;
    else lo = mid + 1;
  }
  return Math.max(0, lo);
}

/** The list; `onNearTop` is called when the user nears the oldest loaded row. */
export function VirtualList(props: {
  readonly rows: readonly VirtualRow[];
  readonly label: string;
  readonly className: string;
  readonly onNearTop?: () => void;
  /** A row to bring into view once (a search hit). */
  readonly focusKey?: string | undefined;
}) {
  const { rows, onNearTop, focusKey } = props;
  const focused = useRef<string | undefined>(undefined);
  const box = useRef<HTMLOListElement>(null);
  const heights = useRef(new Map<string, number>());
  const atBottom = useRef(true);
  /** The first row in view and how far the viewport's top is below its top. */
  const anchor = useRef<{ key: string; within: number } | undefined>(undefined);
  const [view, setView] = useState({ top: 0, height: 800 });
  const [measured, setMeasured] = useState(0);

  const offsets: number[] = [0];
  for (const r of rows) offsets.push((offsets[offsets.length - 1] ?? 0) + (heights.current.get(r.key) ?? ESTIMATE));
  const total = offsets[offsets.length - 1] ?? 0;
  const indexOf = new Map(rows.map((r, i) => [r.key, i]));

  const start = rows.length === 0 ? 0 : firstAfter(offsets, view.top - OVERSCAN);
  let end = start;
  while (end < rows.length && (offsets[end] ?? 0) < view.top + view.height + OVERSCAN) end++;

  const remember = useCallback((el: HTMLOListElement, offs: readonly number[], list: readonly VirtualRow[]) => {
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < STICK;
    let i = firstAfter(offs, el.scrollTop);
    while (list[i]?.movable) i++;
    const row = list[i];
    anchor.current = row ? { key: row.key, within: el.scrollTop - (offs[i] ?? 0) } : undefined;
  }, []);

  const onScroll = (e: UIEvent<HTMLOListElement>) => {
    const el = e.currentTarget;
    remember(el, offsets, rows);
    setView({ top: el.scrollTop, height: el.clientHeight });
    if (el.scrollTop < NEAR_TOP) onNearTop?.();
  };

  // After every layout: measure the rendered rows, then put the view back where it belongs.
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const items = [...el.querySelectorAll<HTMLElement>(':scope > [data-row]')];
    const tail = el.querySelector<HTMLElement>(':scope > [data-spacer="bottom"]');
    let changed = false;
    items.forEach((item, i) => {
      const next = items[i + 1] ?? tail;
      if (!next) return;
      const h = next.offsetTop - item.offsetTop;
      const key = item.dataset.row ?? '';
      if (h > 0 && heights.current.get(key) !== h) {
        heights.current.set(key, h);
        changed = true;
      }
    });
    if (changed) {
      setMeasured((n) => n + 1);
      return;
    }
    const target = focusKey !== undefined && focused.current !== focusKey ? indexOf.get(focusKey) : undefined;
    if (target !== undefined && focusKey !== undefined) {
      focused.current = focusKey;
      atBottom.current = false;
      el.scrollTop = Math.max(0, (offsets[target] ?? 0) - el.clientHeight / 3);
      remember(el, offsets, rows);
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
    } else if (anchor.current) {
      const i = indexOf.get(anchor.current.key);
      if (i !== undefined) {
        const want = (offsets[i] ?? 0) + anchor.current.within;
        if (Math.abs(el.scrollTop - want) > 1) el.scrollTop = want;
      }
    }
    if (el.clientHeight !== view.height || Math.abs(el.scrollTop - view.top) > 1) {
      setView({ top: el.scrollTop, height: el.clientHeight });
    }
    // Too few rows to scroll: ask for older ones straight away.
    if (rows.length > 0 && el.scrollHeight <= el.clientHeight + NEAR_TOP) onNearTop?.();
  });

  return (
    <ol
      ref={box}
      className={props.className}
      aria-label={props.label}
      data-count={rows.length}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (axe scrollable-region-focusable)
      tabIndex={0}
      onScroll={onScroll}
      data-measured={measured}
    >
      <li aria-hidden="true" data-spacer="top" style={{ height: offsets[start] ?? 0 }} />
      {rows.slice(start, end).map((r) => (
        <RowSlot key={r.key} row={r} />
      ))}
      <li aria-hidden="true" data-spacer="bottom" style={{ height: Math.max(0, total - (offsets[end] ?? total)) }} />
    </ol>
  );
}

function RowSlot({ row }: { row: VirtualRow }) {
  return <>{row.render()}</>;
}
