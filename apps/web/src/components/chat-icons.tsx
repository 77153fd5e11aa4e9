/** Icons of the chat features, drawn like icons.tsx (stroked inline SVG: no emoji font needed). */
import type { ReactNode } from 'react';

function Svg({ children, size = 22 }: { children: ReactNode; size?: number }) {
  return (
    <svg
      viewBox="0 0 24 24"
      width={size}
      height={size}
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {children}
    </svg>
  );
}

/** A new group. */
export const NewGroupIcon = () => (
  <Svg>
    <circle cx="9" cy="8" r="3.5" />
    <path d="M2 20c0-3.5 3-5.5 7-5.5s7 2 7 5.5M16 4.5a3.5 3.5 0 0 1 0 7M19 14.8c1.8.8 3 2.5 3 5.2" />
  </Svg>
);

/** Attach a file (paper clip). */
export const AttachIcon = () => (
  <Svg>
    <path d="M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l7.9-7.9" />
  </Svg>
);

/** Disappearing messages (an hourglass). */
export const TimerIcon = ({ size = 18 }: { size?: number }) => (
  <Svg size={size}>
    <path d="M6 2h12M6 22h12M7 2c0 5 10 6 10 10S7 17 7 22M17 2c0 5-10 6-10 10s10 5 10 10" />
  </Svg>
);
