// These packages ship no TypeScript types; this is the part of their API that we use (the
// cornerstone WASM codecs share one Emscripten API across their decoders).
declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  import type { EmscriptenModuleOptions, WasmDecoderModule } from 'wasm-image-decoder';
  const factory: (module?: EmscriptenModuleOptions) => Promise<WasmDecoderModule<'J2KDecoder'>>;
  export default factory;
}
declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  import type { EmscriptenModuleOptions, WasmDecoderModule } from 'wasm-image-decoder';
  const factory: (module?: EmscriptenModuleOptions) => Promise<WasmDecoderModule<'JpegLSDecoder'>>;
  export default factory;
}
declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs' {
  import type { EmscriptenModuleOptions, WasmDecoderModule } from 'wasm-image-decoder';
  const factory: (module?: EmscriptenModuleOptions) => Promise<WasmDecoderModule<'JPEGDecoder'>>;
  export default factory;
}
declare module 'wasm-image-decoder' {
  export interface FrameInfo {
    width: number;
    height: number;
    bitsPerSample: number;
    componentCount: number;
    isSigned: boolean;
  }
  export interface WasmDecoder {
    getEncodedBuffer(length: number): Uint8Array;
    getDecodedBuffer(): Uint8Array;
    decode(): void;
    getFrameInfo(): FrameInfo;
    delete(): void;
  }
  export interface EmscriptenModuleOptions {
    print?: (text: string) => void;
    printErr?: (text: string) => void;
  }
  export type WasmDecoderModule<Name extends string> = { [K in Name]: new () => WasmDecoder };
}
declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    decode(buffer: ArrayBufferLike, offset: number, length: number, numBytes?: number): Uint8Array | Uint16Array;
    /** The frame header's (SOF) columns, rows and sample precision, set by decode. */
    xDim: number;
    yDim: number;
    precision: number | undefined;
    /** The next sample to store: row yLoc (yDim once every line of the scan was decoded), column xLoc. */
    yLoc: number;
    xLoc: number;
    /** Where decoding stopped in the input; past its end when the stream broke off. */
    stream: { index: number };
  }
}
declare module 'xhr2' {
  const XMLHttpRequest: unknown;
  export default XMLHttpRequest;
}
