/** The link's clock is the project's injectable one: tests drive every timer with a fake clock and never sleep. */
export { type Clock, systemClock } from '../../common/clock';
