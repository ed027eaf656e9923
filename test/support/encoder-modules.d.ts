// The encoder half of the CharLS codec package, as used by the tests.
declare module '@cornerstonejs/codec-charls/wasmjs' {
  interface Encoder {
    getDecodedBuffer(frame: object): Uint8Array;
    getEncodedBuffer(): Uint8Array;
    setNearLossless(near: number): void;
    encode(): void;
  }
  const factory: () => Promise<{ JpegLSEncoder: new () => Encoder }>;
  export default factory;
}
