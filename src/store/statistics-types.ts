// Status classes of daily statistics, shared by the repository and the group-size rules.
export const STATUS_CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "none"] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];
