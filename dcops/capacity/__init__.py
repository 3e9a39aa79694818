"""OpenStack failure-domain capacity: can each availability zone lose m nodes, or a whole rack?

Modules, in the order data flows through them:

* ``openstack_source`` – the only importer of openstacksdk: reads Nova (AZs, aggregates,
  hypervisors, compute services) and Placement (inventories, usages) into plain records.
* ``cloud`` – pure: joins those records into a ``Snapshot`` of nodes.
* ``snapshot`` – the versioned snapshot JSON file (``--from-file``, ``capacity snapshot``).
* ``racks`` – pure: puts racks from the dcops inventory on the snapshot's nodes.
* ``whatif`` – pure: add, remove or fail nodes before the check.
* ``math`` – pure: the failure-domain arithmetic for one AZ and one resource class.
* ``policy`` – ceilings q per resource class and the requirements (``nodes=k``, ``rack``,
  ``rack+k``).
* ``check`` – pure: snapshot + policy → ``CapacityResult`` (``results``).

Nothing here imports ``dcops.cli``; only ``openstack_source`` touches the network.
"""
