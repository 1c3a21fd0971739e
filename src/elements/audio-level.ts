/**
 * Who is speaking: the audio level of a stream, from a Web Audio `AnalyserNode`, turned into
 * a yes/no with a short hold so the indicator does not flicker between words. One
 * `AudioContext` per page serves every stream (browsers limit how many a page may open).
 */

/** RMS level (0..1 of full scale) above which a stream counts as speaking: about -34 dBFS. */
export const speakingLevel = 0.02
/** How long a stream stays "speaking" after its level drops, so pauses between words do not flicker. */
export const speakingHoldMs = 400
/** How often levels are read: often enough to feel live, rare enough to cost nothing. */
const sampleEveryMs = 100

let shared: AudioContext | undefined
const context = () => {
  const Context = (globalThis as {AudioContext?: typeof AudioContext}).AudioContext
  if (!Context) return undefined
  shared ??= new Context()
  // Pages without a user gesture may start it suspended: resume at the next click or key.
  if (shared.state === 'suspended') {
    const resume = () => void shared?.resume().catch(() => {})
    resume()
    for (const type of ['pointerdown', 'keydown']) addEventListener(type, resume, {once: true, capture: true})
  }
  return shared
}

/** Calls `onChange(speaking)` whenever the stream starts or stops speaking; returns a stop function. */
export const watchSpeaking = (stream: MediaStream, onChange: (speaking: boolean) => void): (() => void) => {
  const audio = stream.getAudioTracks()
  const ctx = audio.length ? context() : undefined
  if (!ctx) return () => {}
  let source: MediaStreamAudioSourceNode
  try {
    source = ctx.createMediaStreamSource(new MediaStream(audio))
  } catch {
    return () => {}
  }
  const analyser = ctx.createAnalyser()
  analyser.fftSize = 512
  source.connect(analyser)
  const samples = new Float32Array(analyser.fftSize)
  let speaking = false
  let lastLoud = -Infinity
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(samples)
    let sum = 0
    for (const sample of samples) sum += sample * sample
    const live = audio.some(track => track.readyState === 'live' && track.enabled)
    const now = performance.now()
    if (live && Math.sqrt(sum / samples.length) > speakingLevel) lastLoud = now
    const next = now - lastLoud < speakingHoldMs
    if (next !== speaking) onChange((speaking = next))
  }, sampleEveryMs)
  return () => {
    clearInterval(timer)
    source.disconnect()
    analyser.disconnect()
  }
}
