/** The subset of a pino-style logger core uses; `fastify.log` and pino fit as they are. */
export interface Logger {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export const consoleLogger: Logger = {
  warn: (details, message) => console.warn(`[hiwelink] ${message}`, details),
  error: (details, message) => console.error(`[hiwelink] ${message}`, details),
};
