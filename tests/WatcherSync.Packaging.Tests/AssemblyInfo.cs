using Xunit;

// Every test here runs scripts/pack.sh on the checkout: two packs at once would build the same obj/ folders and fail
// on each other's files, so the tests of this project run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
