import {
  type CreationOptional,
  DataTypes,
  type InferAttributes,
  type InferCreationAttributes,
  type Model,
  type ModelStatic,
  Sequelize,
  type Transaction,
} from 'sequelize';

/** A product under the store's own column names; the kit maps them to HiWelink's. */
export interface ProductRow extends Model<InferAttributes<ProductRow>, InferCreationAttributes<ProductRow>> {
  id: CreationOptional<number>;
  title: string;
  handle: string;
  /** DECIMAL: PostgreSQL returns it as text ("12.50"), which the kit reads as 12.5. */
  list_price: number | string;
  stock: CreationOptional<number>;
}

export interface OrderRow extends Model<InferAttributes<OrderRow>, InferCreationAttributes<OrderRow>> {
  id: CreationOptional<number>;
  number: string;
  state: string;
  grand_total: number | string;
  currency: CreationOptional<string>;
  email: string;
  placed_at: CreationOptional<Date>;
}

export interface Db {
  sequelize: Sequelize;
  Product: ModelStatic<ProductRow>;
  Order: ModelStatic<OrderRow>;
}

function defineModels(sequelize: Sequelize, schema: string) {
  const Product = sequelize.define<ProductRow>(
    'Product',
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      title: { type: DataTypes.STRING(200), allowNull: false },
      handle: { type: DataTypes.STRING(200), allowNull: false, unique: true },
      list_price: { type: DataTypes.DECIMAL(10, 2), allowNull: false },
      stock: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    },
    { schema, tableName: 'products', timestamps: false },
  );
  const Order = sequelize.define<OrderRow>(
    'Order',
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      number: { type: DataTypes.STRING(32), allowNull: false, unique: true },
      state: { type: DataTypes.STRING(32), allowNull: false },
      grand_total: { type: DataTypes.DECIMAL(10, 2), allowNull: false },
      currency: { type: DataTypes.STRING(3), allowNull: false, defaultValue: 'USD' },
      email: { type: DataTypes.STRING, allowNull: false },
      placed_at: { type: DataTypes.DATE, allowNull: false, defaultValue: DataTypes.NOW },
    },
    { schema, tableName: 'orders', timestamps: false },
  );
  return { Product, Order };
}

async function seed({ Product, Order }: Omit<Db, 'sequelize'>, transaction: Transaction) {
  if ((await Product.count({ transaction })) === 0) {
    await Product.bulkCreate(
      [
        { title: 'Blue Hoodie', handle: 'blue-hoodie', list_price: 59.9, stock: 12 },
        { title: 'Canvas Tote', handle: 'canvas-tote', list_price: 19.5, stock: 40 },
        { title: 'Enamel Mug', handle: 'enamel-mug', list_price: 12.5, stock: 0 },
        { title: 'Wool Beanie', handle: 'wool-beanie', list_price: 24, stock: 7 },
      ],
      { transaction },
    );
  }
  if ((await Order.count({ transaction })) === 0) {
    await Order.bulkCreate(
      [
        {
          number: '1001',
          state: 'completed',
          grand_total: 72.4,
          email: 'ada@example.com',
          placed_at: new Date('2025-03-01T10:00:00Z'),
        },
        {
          number: '1002',
          state: 'processing',
          grand_total: 24,
          email: 'grace@example.com',
          placed_at: new Date('2025-03-02T15:30:00Z'),
        },
      ],
      { transaction },
    );
  }
}

/**
 * Connects, creates the schema and tables if missing, and seeds empty tables. Instances starting
 * at the same time take turns (an advisory lock), so one creates and seeds and the others find it
 * done. No webhook hooks are bound yet: the seed is not announced.
 */
export async function openDatabase(url: string, schema: string): Promise<Db> {
  const sequelize = new Sequelize(url, { dialect: 'postgres', logging: false });
  try {
    const models = defineModels(sequelize, schema);
    await sequelize.transaction(async (transaction) => {
      // Held until this transaction ends; the DDL runs on other pooled connections meanwhile.
      await sequelize.query('SELECT pg_advisory_xact_lock(hashtext(:schema))', {
        replacements: { schema },
        transaction,
      });
      // `schema` is checked to be a plain identifier by readConfig.
      await sequelize.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await sequelize.sync();
      await seed(models, transaction);
    });
    return { sequelize, ...models };
  } catch (error) {
    await sequelize.close();
    throw error;
  }
}
