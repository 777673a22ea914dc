import type { FlowStep } from './observers/conversation-log.js'

export interface DiagramLane {
  name: string
  x: number
}

export interface DiagramArrow {
  y: number
  x1: number
  x2: number
  label: string
  outcome: FlowStep['outcome']
  detail?: string
  time: string
  /** A message a module sent to itself: drawn as a loop. */
  isSelf: boolean
}

export interface SequenceDiagram {
  width: number
  height: number
  lanes: DiagramLane[]
  arrows: DiagramArrow[]
}

const laneGap = 190
const rowHeight = 46
const top = 70

/**
 * Lays a conversation out as a sequence diagram: one lane per module (the sender `outside` first),
 * one arrow per step in time order. Pure: the view draws it as SVG, so nothing runs in the browser.
 */
export function layoutSequence(steps: readonly FlowStep[], knownModules: readonly string[]): SequenceDiagram {
  const ordered = [...steps].sort((a, b) => a.at - b.at)
  const names = ['outside', ...knownModules]
  for (const step of ordered) for (const name of [step.from, step.to]) if (!names.includes(name)) names.push(name)
  const used = names.filter((name) => name !== 'outside' || ordered.some((step) => step.from === 'outside'))
  const lanes = used.map((name, index) => ({ name, x: 90 + index * laneGap }))
  const xOf = (name: string) => lanes.find((lane) => lane.name === name)?.x ?? 0
  const start = ordered[0]?.at ?? 0
  const arrows = ordered.map((step, index) => {
    const arrow: DiagramArrow = {
      y: top + index * rowHeight,
      x1: xOf(step.from),
      x2: xOf(step.to),
      label: `${step.type}${step.kind === 'event' ? ' (event)' : ''}${step.sagas?.length ? ` · saga ${step.sagas.join(', ')}` : ''}`,
      outcome: step.outcome,
      time: `+${step.at - start} ms`,
      isSelf: step.from === step.to,
    }
    if (step.detail) arrow.detail = step.detail
    return arrow
  })
  return { width: 90 + Math.max(1, lanes.length) * laneGap, height: top + arrows.length * rowHeight + 30, lanes, arrows }
}
