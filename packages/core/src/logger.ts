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
