// The older majors are installed under npm aliases for the conformance suite; each is used
// through the current major's types, which cover what the suite calls.
declare module 'express4' {
  import express from 'express';
  export default express;
}
declare module 'koa2' {
  import Koa from 'koa';
  export default Koa;
}
