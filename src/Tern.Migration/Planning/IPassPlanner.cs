namespace Tern.Migration.Planning;

/// <summary>
/// The decision seam of the source engine: before each pass the engine hands the planner what it measured and what
/// the operator set (<see cref="PlanInputs"/>) and applies the whole plan it gets back (<see cref="PassPlan"/>): the
/// encodings of the next pass, the throttle per vCPU and what to do next. A planner never touches the machine, the
/// connections or the counters; it may keep state of its own across the passes of one migration (one planner per
/// migration). <see cref="DefaultPassPlanner"/> is Tern's; tests and other policies plug in their own.
/// </summary>
public interface IPassPlanner
{
    PassPlan Plan(PlanInputs inputs);
}
