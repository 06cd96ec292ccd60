/** The subset of a pino-style logger core uses; `fastify.log` and pino fit as they are. */
export interface Logger {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

// An empty details object adds nothing but a stray `{}` to the line.
const withDetails = (details: object) => (Object.keys(details).length > 0 ? [details] : []);

export const consoleLogger: Logger = {
  warn: (details, message) => console.warn(`[hiwelink] ${message}`, ...withDetails(details)),
  error: (details, message) => console.error(`[hiwelink] ${message}`, ...withDetails(details)),
};

/**
 * The store's logger, made safe to call anywhere: a logger that throws would otherwise turn the
 * answer it was reporting into a crash. Its failure goes to the console with the original line.
 */
export function safeLogger(logger: Logger): Logger {
  const guarded =
    (level: keyof Logger): Logger[keyof Logger] =>
    (details, message) => {
      try {
        logger[level](details, message);
      } catch (error) {
        consoleLogger.error({ err: error }, `the logger threw on: ${message}`);
      }
    };
  return { warn: guarded('warn'), error: guarded('error') };
}
