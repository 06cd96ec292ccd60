// The ORM-free entry point. The ORM bindings have their own entry points, so that nobody loads
// (or needs the types of) an ORM they do not use: `@hiwelink/orm/prisma`, `@hiwelink/orm/sequelize`,
// `@hiwelink/orm/typeorm`.
export type { BindingOptions, Emitter, RecordKind, WriteAction } from './emit.js';
export { type WritableRepository, type Writer, type Written, withWebhooks } from './with-webhooks.js';
